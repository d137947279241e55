import type { ConnectError } from "@connectrpc/connect";
import { clientRefusal } from "@connectauth/core/protocol";

// Reasons as literals (type-checked as ClientReason by clientRefusal): a browser bundle needs no table.

/**
 * The error of a call that could not get a token: `Unavailable` (the issuer may be down; the source
 * backs off), `ErrorInfo.reason` `TOKEN_UNAVAILABLE`, with the failure's stable code (never its message,
 * which may quote a response) in `metadata.cause`.
 *
 * ```ts
 * throw tokenUnavailableError("OAUTH_RESPONSE_BODY_ERROR invalid_client");
 * ```
 */
export function tokenUnavailableError(cause: string): ConnectError {
  return clientRefusal("TOKEN_UNAVAILABLE", `connectauth got no token (${cause})`, { cause });
}

/**
 * The error of a call whose token source gave a value that is not a token68 (`isToken68` of
 * `@connectauth/core`: empty, or with a CR, LF, space, other punctuation or a non-ASCII character):
 * `Unavailable`, `ErrorInfo.reason` `TOKEN_UNAVAILABLE`, `metadata.detail` `malformed_token`. Thrown
 * before the value reaches a header, so nothing is sent; it never quotes the value.
 *
 * ```ts
 * if (!isToken68(token)) throw malformedTokenError();
 * ```
 */
export function malformedTokenError(): ConnectError {
  return clientRefusal("TOKEN_UNAVAILABLE", `connectauth sent nothing: ${notToken68}`, { detail: "malformed_token" });
}

/**
 * The error of a call whose DPoP proof could not be made (the key cannot sign, or its algorithm is not
 * supported here): `Unavailable`, `ErrorInfo.reason` `TOKEN_UNAVAILABLE`, `metadata.detail` `dpop_proof`,
 * with the failure's stable code (never its message) in `metadata.cause`. Nothing is sent.
 *
 * ```ts
 * throw dpopProofError("ERR_JOSE_NOT_SUPPORTED");
 * ```
 */
export function dpopProofError(cause: string): ConnectError {
  return clientRefusal("TOKEN_UNAVAILABLE", `connectauth sent nothing: no DPoP proof could be made (${cause})`, {
    detail: "dpop_proof",
    cause,
  });
}

/**
 * Why a token is refused, in the TypeError of a bad option and in the error of a call alike. It names
 * the rule, never the value.
 *
 * ```ts
 * throw new TypeError(`connectauth: ${notToken68}`);
 * ```
 */
export const notToken68 = "the token is not a token68 (RFC 6750 §2.1)";
