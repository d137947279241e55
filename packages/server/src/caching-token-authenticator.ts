import { Reason } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, rejected } from "./authenticator.js";
import type { DpopBinding } from "./dpop-binding.js";
import type { TokenVerification } from "./issuer-verifier.js";
import { integerAtLeast } from "./option-checks.js";
import { type VerifiedTokenCacheOptions, createVerifiedTokenCache } from "./verified-token-cache.js";

/** @internal Options of {@link createCachingTokenAuthenticator}. */
export interface CachingTokenAuthenticatorOptions {
  readonly name: string;
  readonly what: string;
  readonly maxTokenLength?: number;
  readonly cache?: false | VerifiedTokenCacheOptions;
  readonly now: () => number;
  /** Verifies a token that passed the size cap and is not in the cache. */
  readonly verify: (token: string) => Promise<TokenVerification>;
  /** With DPoP on: the checks of the scheme and the proof around the token's ({@link DpopBinding}). */
  readonly dpop?: DpopBinding;
}

/**
 * @internal A token authenticator around a verification: the size cap first (before any decoding),
 * then the verified-token cache, then the verification, whose acceptances are cached (while their
 * `stillTrusted` holds). The cache is read inside `authenticate` only, one look-up per call, so that a
 * copy or wrapper of the authenticator with its own `authenticate` always runs it. With `dpop`, it also
 * takes the `dpop` scheme: the binding's checks of the call come before the token's, of the proof after.
 *
 * ```ts
 * createCachingTokenAuthenticator({ name: "jwt", what: "createJwtAuthenticator", now: Date.now, verify });
 * ```
 *
 * Not checked: the token itself (that is `verify`'s job), nor the proof (the binding's); rejections
 * are never cached, and neither is anything of a proof.
 */
export function createCachingTokenAuthenticator(options: CachingTokenAuthenticatorOptions): Authenticator {
  const maxTokenLength = integerAtLeast(1, options.maxTokenLength, 8192, "maxTokenLength", options.what);
  const cache =
    options.cache === false ? undefined : createVerifiedTokenCache<AuthOutcome>({ now: options.now, ...options.cache });
  const { verify, dpop } = options;

  async function verifyToken(token: string): Promise<AuthOutcome> {
    if (token.length > maxTokenLength) {
      return rejected(Reason.InvalidToken, { message: "the token is too large", detail: "too_large" });
    }
    if (cache === undefined) return (await verify(token)).outcome;
    const key = cache.keyOf(token);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const { outcome, expiresAtMs, stillTrusted } = await verify(token);
    if (outcome.ok && expiresAtMs !== undefined) cache.set(key, outcome, expiresAtMs, stillTrusted);
    return outcome;
  }

  if (dpop === undefined) {
    return { name: options.name, schemes: ["bearer"], authenticate: ({ value }) => verifyToken(value) };
  }
  return {
    name: options.name,
    schemes: ["bearer", "dpop"],
    challenge: dpop.challenge,
    async authenticate(credentials, call): Promise<AuthOutcome> {
      const presented = dpop.present(credentials, call);
      if ("ok" in presented) return presented;
      return dpop.bind(await verifyToken(credentials.value), presented);
    },
  };
}
