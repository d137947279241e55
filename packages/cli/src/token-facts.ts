import { createHash } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { scopesFromClaims } from "@connectauth/core";

/**
 * What a token says about itself, read WITHOUT verifying it (anyone can forge these values; they are
 * for diagnosis only), judged against the local clock. Never holds the token.
 */
export interface TokenFacts {
  /** First 8 hex digits of the token's SHA-256: the `tokenHash` of the server's decision events. */
  readonly hash: string;
  /** Whether it decodes as a JWS compact JWT. */
  readonly isJwt: boolean;
  /** Why it does not decode, when it does not (a fixed sentence). */
  readonly formatProblem: string | undefined;
  readonly alg: string | undefined;
  readonly kid: string | undefined;
  readonly typ: string | undefined;
  readonly iss: string | undefined;
  readonly sub: string | undefined;
  readonly aud: readonly string[];
  /** Seconds since the epoch. */
  readonly exp: number | undefined;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  /** From `scope` (space-separated) and `scp` (list or string). */
  readonly scopes: readonly string[];
  /** Seconds until `exp` by the local clock (negative: expired). */
  readonly expiresInSeconds: number | undefined;
  /** Seconds until `nbf` by the local clock (positive: not valid yet). */
  readonly notBeforeInSeconds: number | undefined;
}

/**
 * Decodes a token's header and claims with `jose` (no signature check) against `nowMs`.
 *
 * ```ts
 * const facts = tokenFacts(token, Date.now());
 * if ((facts.expiresInSeconds ?? 1) <= 0) console.log("expired");
 * ```
 */
export function tokenFacts(token: string, nowMs: number): TokenFacts {
  const hash = createHash("sha256").update(token).digest("hex").slice(0, 8);
  const empty = {
    hash,
    isJwt: false,
    alg: undefined,
    kid: undefined,
    typ: undefined,
    iss: undefined,
    sub: undefined,
    aud: [],
    exp: undefined,
    nbf: undefined,
    iat: undefined,
    scopes: [],
    expiresInSeconds: undefined,
    notBeforeInSeconds: undefined,
  };
  if (/^bearer\s/i.test(token)) {
    return { ...empty, formatProblem: 'the token starts with "Bearer ": pass the token alone, the scheme is added for you' };
  }
  if (/\s/.test(token)) {
    return { ...empty, formatProblem: "the token contains whitespace (a line break pasted with it?)" };
  }
  let header;
  let claims;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    // jose's message may quote the token: a fixed sentence instead.
    return {
      ...empty,
      formatProblem: "not a JWT (three base64url parts, the middle one a JSON object): maybe an opaque token or an API key",
    };
  }
  const now = nowMs / 1000;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const exp = num(claims.exp);
  const nbf = num(claims.nbf);
  return {
    hash,
    isJwt: true,
    formatProblem: undefined,
    alg: typeof header.alg === "string" ? header.alg : undefined,
    kid: typeof header.kid === "string" ? header.kid : undefined,
    typ: typeof header.typ === "string" ? header.typ : undefined,
    iss: typeof claims.iss === "string" ? claims.iss : undefined,
    sub: typeof claims.sub === "string" ? claims.sub : undefined,
    aud:
      typeof claims.aud === "string"
        ? [claims.aud]
        : Array.isArray(claims.aud)
          ? claims.aud.filter((a: unknown): a is string => typeof a === "string")
          : [],
    exp,
    nbf,
    iat: num(claims.iat),
    scopes: [...scopesFromClaims(claims)],
    expiresInSeconds: exp === undefined ? undefined : Math.round(exp - now),
    notBeforeInSeconds: nbf === undefined ? undefined : Math.round(nbf - now),
  };
}
