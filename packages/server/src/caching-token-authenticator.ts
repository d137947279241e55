import { Reason } from "@connectauth/core";
import { isToken68 } from "@connectauth/core/protocol";
import { type AuthOutcome, type Authenticator, rejected } from "./authenticator.js";
import type { AuthenticatorStatusHooks } from "./authenticator-status.js";
import { checksItsCredentialSyntax } from "./credential-syntax.js";
import type { DpopBinding } from "./dpop-binding.js";
import type { AuthIdentity } from "./identity.js";
import type { TokenVerification } from "./issuer-verifier.js";
import { integerAtLeast } from "./option-checks.js";
import { revocationRefusal, revocationSubjectOf } from "./revocation-check.js";
import type { RevocationList, RevocationSubject } from "./revocation-list.js";
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
  /** Checked on every call, after the token is verified or found in the cache (checked by the caller). */
  readonly revocation?: RevocationList;
  /** The authenticator's readiness hooks, put on it as they are. */
  readonly status?: AuthenticatorStatusHooks;
}

// A verified token's outcome, with what the revocation list checks it by (only with a list, and only
// for an acceptance): built once, with the verification, and cached with it.
interface Verified {
  readonly outcome: AuthOutcome;
  readonly subject?: RevocationSubject;
}

// What the server answers instead, as for any credential that is not a token68 (see credential-syntax.ts).
const notToken68 = rejected(Reason.MalformedCredentials, { message: "the credential is not a token68 (RFC 6750 §2.1)" });

// An identity revalidate() does not know (not one authenticate returned): refused, as the list cannot be asked.
const unknownIdentity = rejected(Reason.InvalidToken, {
  message: "the identity was not accepted by this authenticator",
  detail: "revalidate",
});

/**
 * @internal A token authenticator around a verification: the size cap first (before any decoding),
 * then the verified-token cache, then, on a miss, the token68 syntax (a credential that is not one is
 * `MALFORMED_CREDENTIALS`; its `authenticate` is recorded as checking the syntax itself, so the server
 * does not scan a cached token again), then the verification, whose acceptances are cached (while their
 * `stillTrusted` holds); then, with `revocation`, the revocation list, on every call, cached or not
 * (a few `Map` reads, synchronous: the subject it checks is cached with the outcome). The cache is read
 * inside `authenticate` only, one look-up per call, so that a copy or wrapper of the authenticator with
 * its own `authenticate` always runs it. With `dpop`, it also takes the `dpop` scheme: the binding's
 * checks of the call come before the token's, of the proof after (a revoked token's proof is not
 * checked). With `revocation`, `revalidate(identity)` checks an identity it returned again (for open
 * streams).
 *
 * ```ts
 * createCachingTokenAuthenticator({ name: "jwt", what: "createJwtAuthenticator", now: Date.now, verify, revocation });
 * ```
 *
 * Not checked: the token itself (that is `verify`'s job), nor the proof (the binding's); rejections
 * are never cached, and neither is anything of a proof. `revalidate` refuses an identity it did not
 * return (a copy of one).
 */
export function createCachingTokenAuthenticator(options: CachingTokenAuthenticatorOptions): Authenticator {
  const maxTokenLength = integerAtLeast(1, options.maxTokenLength, 8192, "maxTokenLength", options.what);
  const cache = options.cache === false ? undefined : createVerifiedTokenCache<Verified>({ now: options.now, ...options.cache });
  const { verify, dpop, revocation } = options;
  // What revalidate() checks an identity by: every identity authenticate accepted, while it is held.
  const subjects = revocation === undefined ? undefined : new WeakMap<AuthIdentity, RevocationSubject>();

  async function verified(token: string): Promise<Verified & { expiresAtMs?: number; stillTrusted?: () => boolean }> {
    const { outcome, expiresAtMs, stillTrusted } = await verify(token);
    if (subjects === undefined || !outcome.ok) return { outcome, expiresAtMs, stillTrusted };
    const subject = revocationSubjectOf(token, outcome.identity.claims);
    subjects.set(outcome.identity, subject);
    return { outcome, subject, expiresAtMs, stillTrusted };
  }

  // The token's outcome, refused if the list says so; with no list (or a rejection) as it is.
  const judged = ({ outcome, subject }: Verified): AuthOutcome =>
    subject === undefined || revocation === undefined ? outcome : (revocationRefusal(revocation, subject) ?? outcome);

  // One cache look-up, then the list: a cached token is checked against the list on every call. Only
  // a token68 is verified, so only a token68 is ever in the cache: a hit needs no scan.
  async function verifyToken(token: string): Promise<AuthOutcome> {
    if (token.length > maxTokenLength) {
      return rejected(Reason.InvalidToken, { message: "the token is too large", detail: "too_large" });
    }
    if (cache === undefined) return isToken68(token) ? judged(await verified(token)) : notToken68;
    const key = cache.keyOf(token);
    const hit = cache.get(key);
    if (hit !== undefined) return judged(hit);
    if (!isToken68(token)) return notToken68;
    const result = await verified(token);
    if (result.outcome.ok && result.expiresAtMs !== undefined) {
      cache.set(key, { outcome: result.outcome, subject: result.subject }, result.expiresAtMs, result.stillTrusted);
    }
    return judged(result);
  }

  const hooks: Partial<Authenticator> = { ...options.status };
  if (revocation !== undefined && subjects !== undefined) {
    hooks.revalidate = (identity) => {
      const subject = subjects.get(identity);
      return subject === undefined ? unknownIdentity : revocationRefusal(revocation, subject);
    };
  }

  if (dpop === undefined) {
    return {
      name: options.name,
      schemes: ["bearer"],
      authenticate: checksItsCredentialSyntax(({ value }) => verifyToken(value)),
      ...hooks,
    };
  }
  return {
    name: options.name,
    schemes: ["bearer", "dpop"],
    challenge: dpop.challenge,
    authenticate: checksItsCredentialSyntax(async (credentials, call): Promise<AuthOutcome> => {
      const presented = dpop.present(credentials, call);
      if ("ok" in presented) return presented;
      const token = await verifyToken(credentials.value);
      const outcome = await dpop.bind(token, presented);
      // A DPoP call's identity is a new object (with its confirmation): revalidate() knows it too.
      const subject = token.ok ? subjects?.get(token.identity) : undefined;
      if (outcome.ok && subject !== undefined) subjects?.set(outcome.identity, subject);
      return outcome;
    }),
    ...hooks,
  };
}
