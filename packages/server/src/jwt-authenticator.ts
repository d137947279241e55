import type { Authenticator } from "./authenticator.js";
import { authenticatorStatusHooks } from "./authenticator-status.js";
import { createCachingTokenAuthenticator } from "./caching-token-authenticator.js";
import { type DpopMode, type DpopOptions, createDpopBinding } from "./dpop-binding.js";
import { createIssuerVerifier } from "./issuer-verifier.js";
import type { JwtIssuerOptions } from "./jwt-issuer-options.js";
import { revocationListOption } from "./revocation-check.js";
import type { RevocationList } from "./revocation-list.js";
import type { VerifiedTokenCacheOptions } from "./verified-token-cache.js";

/**
 * What a JWT authenticator has once, whatever its issuers: shared by {@link createJwtAuthenticator} and
 * `createMultiIssuerJwtAuthenticator`.
 */
export interface JwtAuthenticatorCommonOptions {
  /** The largest token accepted, in characters, checked before any decoding. Default 8192. */
  readonly maxTokenLength?: number;
  /**
   * The verified-token cache: a token seen again is not verified again while its entry lives (until
   * its `exp`, at most `ttlSeconds`, default 60, and, with a remote key set, until a fetch of the set
   * shows the key that verified it gone). On by default; `false` turns it off.
   */
  readonly cache?: false | VerifiedTokenCacheOptions;
  /**
   * The current time in milliseconds since the epoch, for the token's times and the cache. Default
   * `Date.now`. For tests. Remote key sets keep the real clock (jose's cooldown and cache age use it).
   */
  readonly now?: () => number;
  /** The authenticator's name in identities and events. Default `"jwt"`. */
  readonly name?: string;
  /**
   * DPoP-bound tokens (RFC 9449): `"required"` (only `Authorization: DPoP <token>` with a `DPoP` proof
   * header), `"allowed"` (DPoP, or `Bearer` for tokens without `cnf.jkt`), or {@link DpopOptions} for
   * algorithms, nonces, the replay store and the public origin. Default: off (`Bearer` only; a `DPoP`
   * scheme is one nobody takes).
   */
  readonly dpop?: DpopMode | DpopOptions;
  /**
   * Revoked tokens: checked on every call, once the token is verified or found in the verified-token
   * cache (so a revoked token that was cached is refused at once), locally and synchronously (no
   * network per call). A revoked token is `INVALID_TOKEN` (`detail: "revoked"`); a list that cannot be
   * trusted (too stale, failing closed) answers `REVOCATION_UNAVAILABLE` (`Unavailable`, no challenge),
   * never a token reason. The token is checked by its `iss`, `jti`, `sub`, `client_id`, `iat` and the
   * digest of its signing input (`revocationDigest`). `createMemoryRevocationList()` for one process,
   * `createRedisRevocationList` of `@connectauth/node/redis` for a fleet. Default: none.
   */
  readonly revocation?: RevocationList;
}

/** Options of {@link createJwtAuthenticator}: one issuer's requirements and the common options. */
export interface JwtAuthenticatorOptions extends JwtIssuerOptions, JwtAuthenticatorCommonOptions {}

/**
 * Creates an authenticator of bearer JWTs, verified with `jose`.
 *
 * Before any key is looked up (so never causing a fetch): the size cap, the compact JWS shape (JWE and
 * nested tokens refused), the algorithm allow-list, `crit`, keys named by the header (`jwk`, `jku`,
 * `x5u`, `x5c`) and `typ`. Then: the signature by a trusted key of the right type, `iss`, `aud`, `exp`
 * (required, finite), `nbf`, `iat` (not in the future), the maximum age and lifetime. Scopes come from
 * `scope` (a string) and `scp` (a string or an array).
 *
 * ```ts
 * const jwt = createJwtAuthenticator({
 *   issuer: "https://issuer.example.com/",
 *   audience: "greeter",
 *   algorithms: ["ES256"],
 *   keys: new URL("https://issuer.example.com/.well-known/jwks.json"),
 * });
 * ```
 *
 * A token verified by a key of a remote set (a JWKS `URL`, discovery) stops being served from the
 * verified-token cache as soon as a fetch of the set shows that key gone.
 *
 * With `dpop` (RFC 9449), a token sent as `Authorization: DPoP <token>` needs exactly one `DPoP` proof
 * header; the token is verified as above, then the proof (its signature by its own `jwk`, `htm`, `htu`,
 * `iat`, `ath`, the nonce when on, and its `jti` new in the replay store), then the token's `cnf.jkt`
 * must be the thumbprint of the proof's key; the identity's `confirmation` holds it. A proof's `iat`
 * may be off by `dpop.iatWindowSeconds` plus `clockToleranceSeconds`.
 *
 * With `revocation`, every call's token is checked against the list after it is verified (or found in
 * the cache): see {@link JwtAuthenticatorCommonOptions.revocation}. The authenticator then also has
 * `revalidate(identity)`, the same check for an identity it accepted (for streams that stay open).
 * Its `status()` is ready when its keys are fetched and its revocation list is caught up.
 *
 * ```ts
 * const revocations = createMemoryRevocationList();
 * const jwt = createJwtAuthenticator({ ...options, revocation: revocations });
 * await revocations.revoke({ issuer: "https://issuer.example.com/", subject: "alice", before: Date.now() / 1000 });
 * ```
 *
 * Not checked: the token's `jti` replay (a bearer token is meant to be used again; a DPoP proof's `jti`
 * is checked); for your own key lookup (a function), whether a key was withdrawn since a
 * cached token was verified (the cache's TTL bounds it). A key source that cannot be reached, with no
 * keys fetched before, answers `KEYS_UNAVAILABLE` (`Unavailable`), never a token reason, so that
 * clients do not refresh good tokens during an outage; keys fetched before keep verifying through the
 * outage (a failed fetch removes no key).
 *
 * @throws TypeError on missing issuer, audience or algorithms, `none`, an algorithm that does not fit
 * the key, a weak or PEM-looking HMAC secret, a bad `dpop` option, a `revocation` that is not a
 * revocation list, or any other bad option.
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const what = "createJwtAuthenticator";
  const name = options.name ?? "jwt";
  const now = options.now ?? Date.now;
  const verify = createIssuerVerifier(options, { what, name, now });
  const revocation = revocationListOption(options.revocation, what);
  return createCachingTokenAuthenticator({
    name,
    maxTokenLength: options.maxTokenLength,
    cache: options.cache,
    now,
    what,
    verify: (token) => verify(token),
    dpop: createDpopBinding(options.dpop, { what, now, clockToleranceSeconds: verify.clockTolerance }),
    revocation,
    status: authenticatorStatusHooks(verify.keys, revocation),
  });
}
