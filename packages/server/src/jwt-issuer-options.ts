import type { JWTVerifyGetKey } from "jose";
import { defaultScopeClaims } from "@connectauth/core";
import { discoveryKeySource } from "./discovery-key-source.js";
import { type JwtKeySource, resolveKeySource } from "./key-source.js";
import { type KeyFamily, familyOf } from "./key-type-guard.js";
import { integerAtLeast, nonEmptyList, nonNegative } from "./option-checks.js";
import type { RemoteKeyOptions } from "./remote-key-source.js";

/** What one issuer's tokens must satisfy. Shared by `createJwtAuthenticator` and the multi-issuer one. */
export interface JwtIssuerOptions {
  /** The issuer(s) to trust: the `iss` claim must equal one of them exactly. Required. */
  readonly issuer: string | readonly string[];
  /** This service's audience(s): the `aud` claim must hold one of them. Required. */
  readonly audience: string | readonly string[];
  /**
   * The JWS algorithms to accept, e.g. `["ES256"]`. Required: there is no default, so that an
   * attacker can never choose the algorithm (RFC 8725 §3.1). `none` is never accepted, and every
   * algorithm must fit the key: HMAC (`HS*`) only with a secret, never with a public key or key set.
   */
  readonly algorithms: readonly string[];
  /** The verification keys. Exactly one of `keys` and `discovery`. */
  readonly keys?: JwtKeySource;
  /**
   * Find the keys by OpenID Connect discovery of the issuer (one issuer only): its
   * `/.well-known/openid-configuration` must name exactly that issuer, and its `jwks_uri` is used.
   */
  readonly discovery?: boolean;
  /** How remote keys (a JWKS `URL`, or discovery) are fetched: timeout, cooldown, cache age, backoff. */
  readonly remote?: RemoteKeyOptions;
  /**
   * Seconds of clock skew tolerated for `exp`, `nbf` and `iat`: an `iat` later than now plus this is
   * `TOKEN_NOT_YET_VALID` (`detail: "iat"`). With `dpop`, also added to the proofs' `iat` window, on
   * both sides. Default 30.
   */
  readonly clockToleranceSeconds?: number;
  /** The oldest token accepted, in seconds since its `iat` (then required). Default: no limit. */
  readonly maxTokenAgeSeconds?: number;
  /**
   * The longest lifetime accepted, in seconds to `exp` from `iat` (or `nbf`, or now when neither is
   * present), and from now (plus the clock tolerance), so that a late `iat` or `nbf` cannot stretch
   * it: a token valid for years is refused even if its signature is good (`INVALID_TOKEN`,
   * `detail: "lifetime"`). Default 86400 (one day).
   */
  readonly maxLifetimeSeconds?: number;
  /**
   * `"rfc9068"`: JWT access tokens as RFC 9068 defines them: `typ` `at+jwt`, and the claims `iss`,
   * `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` required. Default: no profile.
   */
  readonly profile?: "rfc9068";
  /** The `typ` header the token must carry (e.g. `"at+jwt"`). Default: any (or `at+jwt` with the profile). */
  readonly typ?: string;
  /** Claims that must be present, besides `exp` (always required). */
  readonly requiredClaims?: readonly string[];
  /**
   * The claims read as granted scopes, as dot-separated paths: e.g. `["permissions"]` (Auth0) or
   * `["scope", "realm_access.roles"]` (Keycloak roles, handled as scopes). Default `["scope", "scp"]`.
   * See `scopesFromClaims` of `@connectauth/core`.
   */
  readonly scopeClaims?: readonly string[];
}

/** @internal {@link JwtIssuerOptions} checked, with their defaults, and the key lookup they name. */
export interface IssuerSettings {
  readonly issuer: string[];
  readonly audience: string[];
  readonly algorithms: string[];
  readonly clockTolerance: number;
  readonly maxLifetime: number;
  readonly maxTokenAge: number | undefined;
  readonly maxTokenLength: number;
  readonly typ: string | undefined;
  readonly requiredClaims: string[];
  readonly scopeClaims: readonly string[];
  /** The key lookup of `keys`, or of discovery (unguarded: the verifier guards it). */
  readonly getKey: JWTVerifyGetKey;
}

/**
 * @internal Checks one issuer's options at construction and resolves their defaults and keys: every
 * fault is a `TypeError` naming `what`, before any token is seen.
 *
 * ```ts
 * const settings = issuerSettings(options, "createJwtAuthenticator");
 * ```
 *
 * Not checked: that remote keys can be fetched (that is known at the first call).
 */
export function issuerSettings(options: JwtIssuerOptions & { readonly maxTokenLength?: number }, what: string): IssuerSettings {
  const issuer = nonEmptyList(options.issuer, "issuer", what);
  const audience = nonEmptyList(options.audience, "audience", what);
  const algorithms = nonEmptyList(options.algorithms, "algorithms", what);
  if (algorithms.some((a) => a.toLowerCase() === "none")) {
    throw new TypeError(`${what}: the algorithm "none" cannot be allowed`);
  }
  const clockTolerance = nonNegative(options.clockToleranceSeconds, 30, "clockToleranceSeconds", what);
  const maxLifetime = nonNegative(options.maxLifetimeSeconds, 86400, "maxLifetimeSeconds", what);
  const maxTokenAge =
    options.maxTokenAgeSeconds === undefined ? undefined : nonNegative(options.maxTokenAgeSeconds, 0, "maxTokenAgeSeconds", what);
  const maxTokenLength = integerAtLeast(1, options.maxTokenLength, 8192, "maxTokenLength", what);
  const rfc9068 = options.profile === "rfc9068";
  if (options.profile !== undefined && !rfc9068) {
    throw new TypeError(`${what}: profile must be "rfc9068" or absent`);
  }
  const typ = options.typ ?? (rfc9068 ? "at+jwt" : undefined);
  const requiredClaims = [
    ...new Set(["exp", ...(options.requiredClaims ?? []), ...(rfc9068 ? ["iss", "aud", "sub", "client_id", "iat", "jti"] : [])]),
  ];
  const getKey = keyLookup(options, issuer, algorithms, what);
  const scopeClaims = options.scopeClaims ?? defaultScopeClaims;
  if (!Array.isArray(scopeClaims) || scopeClaims.some((p) => typeof p !== "string" || p === "")) {
    throw new TypeError(`${what}: scopeClaims must be a list of claim paths`);
  }
  return {
    issuer,
    audience,
    algorithms,
    clockTolerance,
    maxLifetime,
    maxTokenAge,
    maxTokenLength,
    typ,
    requiredClaims,
    scopeClaims,
    getKey,
  };
}

/** The key lookup of `keys` or discovery, with every algorithm checked against the keys' family. */
function keyLookup(options: JwtIssuerOptions, issuer: string[], algorithms: string[], what: string): JWTVerifyGetKey {
  if ((options.keys === undefined) === (options.discovery !== true)) {
    throw new TypeError(`${what}: give exactly one of keys and discovery`);
  }
  let getKey: JWTVerifyGetKey;
  let family: KeyFamily | undefined;
  if (options.keys === undefined) {
    // then discovery is true (checked above)
    if (issuer.length !== 1) throw new TypeError(`${what}: discovery needs exactly one issuer`);
    getKey = discoveryKeySource(issuer[0], options.remote ?? {}, { what });
  } else {
    ({ getKey, family } = resolveKeySource(options.keys, options.remote ?? {}, what));
  }
  const isKeySet = options.keys === undefined || typeof options.keys !== "function";
  for (const alg of algorithms) {
    const algFamily = familyOf(alg);
    if (family !== undefined ? algFamily !== family : isKeySet && algFamily === "hmac") {
      throw new TypeError(`${what}: the algorithm "${alg}" does not fit the key (HMAC needs a secret, others a public key)`);
    }
  }
  return getKey;
}
