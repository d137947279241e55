import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { Reason, defaultScopeClaims, scopesFromClaims } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, accepted, rejected } from "./authenticator.js";
import type { AuthIdentity } from "./identity.js";
import { precheckJws } from "./jws-precheck.js";
import {
  type JwtKeySource,
  type KeyFamily,
  KeySourceUnavailableError,
  type RemoteKeyOptions,
  createDiscoveryKeySource,
  familyOf,
  isTokenFault,
  resolveKeySource,
} from "./key-source.js";
import { keySetWatchOf } from "./key-set-watch.js";
import { type VerifiedTokenCacheOptions, createVerifiedTokenCache } from "./verified-token-cache.js";

export type { JwtKeySource } from "./key-source.js";

/** What one issuer's tokens must satisfy. Shared by {@link createJwtAuthenticator} and the multi-issuer one. */
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
   * `TOKEN_NOT_YET_VALID` (`detail: "iat"`). Default 30.
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
  /** The current time in milliseconds since the epoch. Default `Date.now`. For tests. */
  readonly now?: () => number;
  /** The authenticator's name in identities and events. Default `"jwt"`. */
  readonly name?: string;
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
 * Not checked: `jti` replay; for your own key lookup (a function), whether a key was withdrawn since a
 * cached token was verified (the cache's TTL bounds it). A key source that cannot be reached, with no
 * keys fetched before, answers `KEYS_UNAVAILABLE` (`Unavailable`), never a token reason, so that
 * clients do not refresh good tokens during an outage; keys fetched before keep verifying through the
 * outage (a failed fetch removes no key).
 *
 * @throws TypeError on missing issuer, audience or algorithms, `none`, an algorithm that does not fit
 * the key, a weak or PEM-looking HMAC secret, or any other bad option.
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const what = "createJwtAuthenticator";
  const name = options.name ?? "jwt";
  const now = options.now ?? Date.now;
  const verify = createIssuerVerifier(options, { what, name, now });
  return createCachingTokenAuthenticator({
    name,
    maxTokenLength: options.maxTokenLength,
    cache: options.cache,
    now,
    what,
    verify: (token) => verify(token),
  });
}

/**
 * The outcome of verifying one token, with what the verified-token cache needs to keep an acceptance:
 * the instant it ends, and whether the key that verified the token is still trusted.
 *
 * ```ts
 * const verification: TokenVerification = { outcome: accepted(identity), expiresAtMs: exp * 1000, stillTrusted: () => keys.has(id) };
 * ```
 */
export type TokenVerification = {
  readonly outcome: AuthOutcome;
  readonly expiresAtMs?: number;
  /**
   * Checked on every cache hit (so cheap: a Set look-up, no allocation); once false, the entry is
   * dropped and the token verified again. Absent for keys that never change (a fixed key, a JWKS
   * object) and for your own key lookup.
   */
  readonly stillTrusted?: () => boolean;
};

/** @internal Settings shared by the issuer verifiers of one authenticator. */
export interface VerifierContext {
  readonly what: string;
  readonly name: string;
  readonly now: () => number;
}

/**
 * @internal Builds the verification of one issuer's tokens (no cache, no size cap beyond the
 * precheck's). Validates the options at once.
 */
export function createIssuerVerifier(
  options: JwtIssuerOptions & { readonly maxTokenLength?: number },
  context: VerifierContext,
): (token: string) => Promise<TokenVerification> {
  const { what, name, now } = context;
  const issuer = nonEmptyList(options.issuer, "issuer", what);
  const audience = nonEmptyList(options.audience, "audience", what);
  const algorithms = nonEmptyList(options.algorithms, "algorithms", what);
  if (algorithms.some((a) => a.toLowerCase() === "none")) {
    throw new TypeError(`${what}: the algorithm "none" cannot be allowed`);
  }
  const clockTolerance = nonNegative(options.clockToleranceSeconds, 30, "clockToleranceSeconds", what);
  const maxLifetime = nonNegative(options.maxLifetimeSeconds, 86400, "maxLifetimeSeconds", what);
  const maxTokenAge =
    options.maxTokenAgeSeconds === undefined
      ? undefined
      : nonNegative(options.maxTokenAgeSeconds, 0, "maxTokenAgeSeconds", what);
  const maxTokenLength = positiveInteger(options.maxTokenLength, 8192, "maxTokenLength", what);
  const rfc9068 = options.profile === "rfc9068";
  if (options.profile !== undefined && !rfc9068) {
    throw new TypeError(`${what}: profile must be "rfc9068" or absent`);
  }
  const typ = options.typ ?? (rfc9068 ? "at+jwt" : undefined);
  const requiredClaims = [
    ...new Set(["exp", ...(options.requiredClaims ?? []), ...(rfc9068 ? ["iss", "aud", "sub", "client_id", "iat", "jti"] : [])]),
  ];

  if ((options.keys === undefined) === (options.discovery !== true)) {
    throw new TypeError(`${what}: give exactly one of keys and discovery`);
  }
  let getKey: JWTVerifyGetKey;
  let family: KeyFamily | undefined;
  if (options.discovery === true) {
    if (issuer.length !== 1) throw new TypeError(`${what}: discovery needs exactly one issuer`);
    getKey = createDiscoveryKeySource(issuer[0]!, options.remote ?? {}, what);
  } else {
    ({ getKey, family } = resolveKeySource(options.keys!, options.remote ?? {}, what));
  }
  const isKeySet = options.keys === undefined || typeof options.keys !== "function";
  for (const alg of algorithms) {
    const algFamily = familyOf(alg);
    if (family !== undefined ? algFamily !== family : isKeySet && algFamily === "hmac") {
      throw new TypeError(`${what}: the algorithm "${alg}" does not fit the key (HMAC needs a secret, others a public key)`);
    }
  }
  const scopeClaims = options.scopeClaims ?? defaultScopeClaims;
  if (!Array.isArray(scopeClaims) || scopeClaims.some((p) => typeof p !== "string" || p === "")) {
    throw new TypeError(`${what}: scopeClaims must be a list of claim paths`);
  }
  const allowed = new Set(algorithms);
  const guardedGetKey = guardKeySource(getKey);
  const watch = keySetWatchOf(getKey);

  return async (token) => {
    const checked = precheckJws(token, { maxTokenLength, algorithms: allowed, typ });
    if ("ok" in checked) return { outcome: checked };
    let payload: JWTPayload;
    let key: unknown;
    try {
      ({ payload, key } = await jwtVerify(token, guardedGetKey, {
        issuer,
        audience,
        algorithms,
        requiredClaims,
        clockTolerance,
        maxTokenAge,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      return { outcome: classify(error) };
    }
    const exp = payload.exp!;
    if (!Number.isFinite(exp)) {
      return { outcome: rejected(Reason.InvalidToken, { message: "the token's exp is not a finite time", detail: "claim_exp" }) };
    }
    const nowS = Math.floor(now() / 1000); // as jose counts
    const start = [payload.iat, payload.nbf].find((t) => typeof t === "number" && Number.isFinite(t)) ?? nowS;
    // From its start, and from now: a start set late (iat = exp - 1h on a token valid for a year) does
    // not shorten the lifetime. From now within the clock tolerance, as an iat is.
    if (exp - start > maxLifetime || exp - nowS > maxLifetime + clockTolerance) {
      return { outcome: rejected(Reason.InvalidToken, { message: "the token's lifetime is too long", detail: "lifetime" }) };
    }
    // jose refuses an iat in the future only along with maxTokenAge (it then requires iat too, and
    // classify maps it): its same rule here, for the tokens it did not check.
    if (maxTokenAge === undefined && typeof payload.iat === "number" && payload.iat - nowS > clockTolerance) {
      return { outcome: rejected(Reason.TokenNotYetValid, { message: "the token is issued in the future", detail: "iat" }) };
    }
    const stillTrusted = await watch?.trustCheck(key);
    return { outcome: accepted(identityOf(payload, name, scopeClaims)), expiresAtMs: exp * 1000, stillTrusted };
  };
}

function identityOf(payload: JWTPayload, name: string, scopeClaims: readonly string[]): AuthIdentity {
  const subject =
    typeof payload.sub === "string" ? payload.sub : typeof payload["client_id"] === "string" ? payload["client_id"] : "";
  return { subject, scopes: scopesFromClaims(payload, scopeClaims), claims: payload, authenticator: name };
}

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
 */
export function createCachingTokenAuthenticator(options: CachingTokenAuthenticatorOptions): Authenticator {
  const maxTokenLength = positiveInteger(options.maxTokenLength, 8192, "maxTokenLength", options.what);
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

function nonEmptyList(value: string | readonly string[] | undefined, option: string, what: string): string[] {
  const list = typeof value === "string" ? [value] : [...(value ?? [])];
  if (list.length === 0 || list.some((v) => typeof v !== "string" || v === "")) {
    throw new TypeError(`${what}: ${option} is required (a non-empty string or list of strings)`);
  }
  return list;
}

function nonNegative(value: number | undefined, fallback: number, option: string, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new TypeError(`${what}: ${option} must be a finite number >= 0`);
  }
  return v;
}

function positiveInteger(value: number | undefined, fallback: number, option: string, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${what}: ${option} must be an integer >= 1`);
  return v;
}

/** Marks a key whose type does not fit the token's algorithm (HMAC with a public key, or the reverse). */
class KeyTypeMismatch extends Error {
  override name = "KeyTypeMismatch";
}

function keyFamilyOf(key: unknown): KeyFamily | "private" | undefined {
  if (key instanceof Uint8Array) return "hmac";
  const k = key as { type?: unknown; kty?: unknown } | null;
  if (k !== null && typeof k === "object") {
    if (k.type === "secret") return "hmac";
    if (k.type === "public") return "asymmetric";
    if (k.type === "private") return "private";
    if (typeof k.kty === "string") return k.kty === "oct" ? "hmac" : "asymmetric";
  }
  return undefined;
}

/**
 * Wraps a key lookup: outages become {@link KeySourceUnavailableError} (no cause), token faults pass,
 * and every key must be of the family of the token's algorithm, whatever the lookup returned.
 */
function guardKeySource(getKey: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    let key;
    try {
      key = await getKey(header, token);
    } catch (error) {
      if (isTokenFault(error) || error instanceof KeySourceUnavailableError) throw error;
      // Deliberately without a cause: fetch errors may name URLs with secrets in them.
      throw new KeySourceUnavailableError("the key source cannot be reached");
    }
    const keyFamily = keyFamilyOf(key);
    if (keyFamily === undefined || keyFamily !== familyOf(String(header.alg))) {
      throw new KeyTypeMismatch("the key does not fit the token's algorithm");
    }
    return key;
  };
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

// jose's errors carry the token's payload (as `payload` and in `cause`): they are only read here, for
// their code, claim and reason, and never passed on.
function classify(error: unknown): AuthOutcome {
  if (error instanceof KeySourceUnavailableError) {
    return rejected(Reason.KeysUnavailable, { detail: "key_source" });
  }
  if (error instanceof KeyTypeMismatch) {
    return rejected(Reason.InvalidToken, { message: "the token's algorithm does not fit the key", detail: "key_type" });
  }
  const code = codeOf(error);
  const claim = (error as { claim?: unknown }).claim;
  const failed = (error as { reason?: unknown }).reason === "check_failed";
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return rejected(Reason.TokenExpired, { detail: claim === "iat" ? "max_age" : "exp" });
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (failed && (claim === "nbf" || claim === "iat")) {
        return rejected(Reason.TokenNotYetValid, { detail: claim });
      }
      if (claim === "aud") return rejected(Reason.InvalidAudience, { detail: "aud" });
      if (claim === "iss") return rejected(Reason.InvalidIssuer, { detail: "iss" });
      return rejected(Reason.InvalidToken, {
        message: "a claim of the token is missing or invalid",
        detail: typeof claim === "string" && /^[a-z_]{1,16}$/.test(claim) ? `claim_${claim}` : "claim",
      });
    case "ERR_JWKS_NO_MATCHING_KEY":
      return rejected(Reason.InvalidToken, { message: "the token's signing key is not known", detail: "unknown_key" });
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return rejected(Reason.InvalidToken, { message: "the token's algorithm is not allowed", detail: "algorithm" });
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return rejected(Reason.InvalidToken, { message: "the token's signature is invalid", detail: "signature" });
    default:
      return rejected(Reason.InvalidToken, { message: "the token is malformed", detail: "format" });
  }
}
