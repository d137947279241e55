import { Reason } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, rejected } from "./authenticator.js";
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
}

/**
 * @internal A bearer-token authenticator around a verification: the size cap first (before any
 * decoding), then the verified-token cache, then the verification, whose acceptances are cached
 * (while their `stillTrusted` holds). The cache is read inside `authenticate` only, one look-up per
 * call, so that a copy or wrapper of the authenticator with its own `authenticate` always runs it.
 *
 * ```ts
 * createCachingTokenAuthenticator({ name: "jwt", what: "createJwtAuthenticator", now: Date.now, verify });
 * ```
 *
 * Not checked: the token itself (that is `verify`'s job); rejections are never cached.
 */
export function createCachingTokenAuthenticator(options: CachingTokenAuthenticatorOptions): Authenticator {
  const maxTokenLength = integerAtLeast(1, options.maxTokenLength, 8192, "maxTokenLength", options.what);
  const cache =
    options.cache === false ? undefined : createVerifiedTokenCache<AuthOutcome>({ now: options.now, ...options.cache });
  const { verify } = options;
  return {
    name: options.name,
    schemes: ["bearer"],
    async authenticate({ value: token }): Promise<AuthOutcome> {
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
    },
  };
}
