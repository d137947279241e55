import type { ProtectedHeaderParameters } from "jose";
import { Reason } from "@connectauth/core";
import { type AuthOutcome, rejected } from "./authenticator.js";
import { protectedHeaderOf } from "./protected-header.js";

/** What {@link precheckJws} checks. */
export interface JwsPrecheckOptions {
  readonly maxTokenLength: number;
  readonly algorithms: ReadonlySet<string>;
  /** The `typ` the header must carry (compared as RFC 8725 §3.11 says: case-insensitive, `application/` optional). */
  readonly typ?: string;
}

// Header parameters that make the token name its own key: never trusted, never fetched (RFC 8725 §3.10).
const embeddedKeyParameters = ["jwk", "jku", "x5u", "x5c"] as const;
const segment = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a compact JWS before any key is looked up or any signature is checked, from the raw token and
 * its decoded protected header only: size, shape (JWE and nested tokens refused), algorithm allow-list,
 * `crit`, keys embedded in the header, `typ`. Returns a rejection, or the header (decoded by jose through
 * `protectedHeaderOf`, so that `verifyJwt` finds it decoded).
 *
 * ```ts
 * const checked = precheckJws(token, { maxTokenLength: 8192, algorithms: new Set(["ES256"]) });
 * if ("ok" in checked) return checked; // rejected
 * ```
 *
 * Not checked here: the signature, the key, the claims, and the payload and signature segments beyond
 * their presence (jose decodes them, strictly).
 */
export function precheckJws(
  token: string,
  options: JwsPrecheckOptions,
): AuthOutcome | { readonly header: ProtectedHeaderParameters } {
  if (token.length > options.maxTokenLength) {
    return rejected(Reason.InvalidToken, { message: "the token is too large", detail: "too_large" });
  }
  const firstDot = token.indexOf(".");
  const lastDot = token.lastIndexOf(".");
  const dots = firstDot < 0 ? 0 : firstDot === lastDot ? 1 : token.indexOf(".", firstDot + 1) === lastDot ? 2 : 3;
  if (dots === 3 && token.split(".").length === 5) {
    return rejected(Reason.InvalidToken, { message: "encrypted tokens (JWE) are not accepted", detail: "encrypted" });
  }
  if (dots !== 2 || firstDot === 0 || lastDot === firstDot + 1 || !segment.test(token.slice(0, firstDot))) {
    return rejected(Reason.InvalidToken, { message: "the token is not a compact JWS", detail: "format" });
  }
  let header: ProtectedHeaderParameters;
  try {
    header = protectedHeaderOf(token.slice(0, firstDot)) as ProtectedHeaderParameters; // jose's decode, done once for the verification too
  } catch {
    return rejected(Reason.InvalidToken, { message: "the token's header is malformed", detail: "format" });
  }
  if (typeof header.alg !== "string" || !options.algorithms.has(header.alg)) {
    return rejected(Reason.InvalidToken, { message: "the token's algorithm is not allowed", detail: "algorithm" });
  }
  if (header.crit !== undefined) {
    return rejected(Reason.InvalidToken, { message: "critical header extensions are not supported", detail: "crit" });
  }
  if (embeddedKeyParameters.some((p) => p in header)) {
    return rejected(Reason.InvalidToken, { message: "keys named by the token itself are not used", detail: "embedded_key" });
  }
  if (header.b64 !== undefined || header["zip"] !== undefined || header["enc"] !== undefined) {
    return rejected(Reason.InvalidToken, { message: "the token's header is not a plain JWS header", detail: "format" });
  }
  if (typeof header.cty === "string" && normalizeTyp(header.cty) === "jwt") {
    return rejected(Reason.InvalidToken, { message: "nested tokens are not accepted", detail: "nested" });
  }
  if (options.typ !== undefined) {
    if (typeof header.typ !== "string" || normalizeTyp(header.typ) !== normalizeTyp(options.typ)) {
      return rejected(Reason.InvalidToken, { message: "the token's type (typ) is not accepted", detail: "typ" });
    }
  }
  return { header };
}

function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}
