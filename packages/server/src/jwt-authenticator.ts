import {
  type CryptoKey,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  jwtVerify,
} from "jose";
import { Reason, defaultScopeClaims, scopesFromClaims } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, accepted, rejected } from "./authenticator.js";

/** Where the JWT authenticator gets its verification keys. */
export type JwtKeySource =
  /** A JSON Web Key Set held in memory (`{ keys: [...] }`). */
  | JSONWebKeySet
  /** The URL of a JSON Web Key Set, fetched and cached by jose's remote key set. */
  | URL
  /** One key (public key, or HMAC secret). */
  | CryptoKey
  /** Your own key lookup, with jose's `JWTVerifyGetKey` signature. */
  | JWTVerifyGetKey;

/** Options of {@link createJwtAuthenticator}. */
export interface JwtAuthenticatorOptions {
  /** The issuer(s) to trust: the `iss` claim must equal one of them exactly. Required. */
  readonly issuer: string | readonly string[];
  /** This service's audience(s): the `aud` claim must hold one of them. Required. */
  readonly audience: string | readonly string[];
  /**
   * The JWS algorithms to accept, e.g. `["ES256"]`. Required: there is no default, so that an
   * attacker can never choose the algorithm (RFC 8725 §3.1). `none` is never accepted.
   */
  readonly algorithms: readonly string[];
  /** The verification keys. */
  readonly keys: JwtKeySource;
  /** Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** The largest token accepted, in characters, checked before any decoding. Default 8192. */
  readonly maxTokenLength?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. For tests. */
  readonly now?: () => number;
  /** The authenticator's name in identities and events. Default `"jwt"`. */
  readonly name?: string;
  /**
   * The claims read as granted scopes, as dot-separated paths: e.g. `["permissions"]` (Auth0) or
   * `["scope", "realm_access.roles"]` (Keycloak roles, handled as scopes). Default `["scope", "scp"]`.
   * See `scopesFromClaims` of `@connectauth/core`.
   */
  readonly scopeClaims?: readonly string[];
}

/**
 * Creates an authenticator of bearer JWTs, verified with `jose`: signature by a trusted key with an
 * allowed algorithm, `iss`, `aud`, `exp` (required), `nbf`. Scopes come from `scope` and `scp`.
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
 * Not checked: `jti` replay, `typ`. A key source that cannot be reached answers `KEYS_UNAVAILABLE`
 * (`Unavailable`), never a token reason, so that clients do not refresh good tokens during an outage.
 *
 * @throws TypeError on missing issuer, audience or algorithms, on `none`, or on a bad option.
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const issuer = nonEmptyList(options.issuer, "issuer");
  const audience = nonEmptyList(options.audience, "audience");
  const algorithms = nonEmptyList(options.algorithms, "algorithms");
  if (algorithms.some((a) => a.toLowerCase() === "none")) {
    throw new TypeError('createJwtAuthenticator: the algorithm "none" cannot be allowed');
  }
  const clockTolerance = options.clockToleranceSeconds ?? 30;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError("createJwtAuthenticator: clockToleranceSeconds must be a finite number >= 0");
  }
  const maxTokenLength = options.maxTokenLength ?? 8192;
  const now = options.now ?? Date.now;
  const name = options.name ?? "jwt";
  const scopeClaims = options.scopeClaims ?? defaultScopeClaims;
  if (!Array.isArray(scopeClaims) || scopeClaims.some((p) => typeof p !== "string" || p === "")) {
    throw new TypeError("createJwtAuthenticator: scopeClaims must be a list of claim paths");
  }
  const getKey = guardKeySource(toKeyGetter(options.keys));

  return {
    name,
    schemes: ["bearer"],
    async authenticate({ value: token }): Promise<AuthOutcome> {
      if (token.length > maxTokenLength) {
        return rejected(Reason.InvalidToken, { message: "the token is too large", detail: "too_large" });
      }
      try {
        const { payload } = await jwtVerify(token, getKey, {
          issuer,
          audience,
          algorithms,
          requiredClaims: ["exp"],
          clockTolerance,
          currentDate: new Date(now()),
        });
        const subject =
          typeof payload.sub === "string" ? payload.sub : typeof payload["client_id"] === "string" ? payload["client_id"] : "";
        return accepted({ subject, scopes: scopesFromClaims(payload, scopeClaims), claims: payload, authenticator: name });
      } catch (error) {
        return classify(error);
      }
    },
  };
}

function nonEmptyList(value: string | readonly string[] | undefined, what: string): string[] {
  const list = typeof value === "string" ? [value] : [...(value ?? [])];
  if (list.length === 0 || list.some((v) => typeof v !== "string" || v === "")) {
    throw new TypeError(`createJwtAuthenticator: ${what} is required (a non-empty string or list of strings)`);
  }
  return list;
}

function toKeyGetter(keys: JwtKeySource): JWTVerifyGetKey {
  if (typeof keys === "function") {
    return keys;
  }
  if (keys instanceof URL) {
    return createRemoteJWKSet(keys);
  }
  if (typeof keys === "object" && keys !== null && Array.isArray((keys as JSONWebKeySet).keys)) {
    return createLocalJWKSet(keys as JSONWebKeySet);
  }
  if (typeof keys === "object" && keys !== null && "type" in keys && "algorithm" in keys) {
    const key = keys as CryptoKey;
    return () => key;
  }
  throw new TypeError("createJwtAuthenticator: keys must be a JWKS, a JWKS URL, a CryptoKey or a key getter");
}

/** Marks failures of the key source itself (network, timeout, bad JWKS), as opposed to token faults. */
class KeySourceUnavailable extends Error {
  override name = "KeySourceUnavailable";
}

const tokenFaultsFromKeySource = new Set([
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
]);

function guardKeySource(getKey: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await getKey(header, token);
    } catch (error) {
      if (tokenFaultsFromKeySource.has(codeOf(error) ?? "")) {
        throw error;
      }
      // Deliberately without a cause: fetch errors may name URLs with secrets in them.
      throw new KeySourceUnavailable("the key source cannot be reached");
    }
  };
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

// jose's errors carry the token's payload (as `payload` and in `cause`): they are only read here, for
// their code and claim, and never passed on.
function classify(error: unknown): AuthOutcome {
  if (error instanceof KeySourceUnavailable) {
    return rejected(Reason.KeysUnavailable, { detail: "key_source" });
  }
  const code = codeOf(error);
  const claim = (error as { claim?: unknown }).claim;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return rejected(Reason.TokenExpired, { detail: "exp" });
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      switch (claim) {
        case "nbf":
        case "iat":
          return rejected(Reason.TokenNotYetValid, { detail: claim });
        case "aud":
          return rejected(Reason.InvalidAudience, { detail: "aud" });
        case "iss":
          return rejected(Reason.InvalidIssuer, { detail: "iss" });
        default:
          return rejected(Reason.InvalidToken, {
            message: "a claim of the token is missing or invalid",
            detail: typeof claim === "string" && /^[a-z_]{1,16}$/.test(claim) ? `claim_${claim}` : "claim",
          });
      }
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
