import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ErrorInfoSchema, errorDomain, tokenUnavailableReason } from "@connectauth/core";

// The plaintext guard (assertSecureTransport), the loopback check (isLoopbackUrl) and the client's reasons
// are core's, shared with credential forwarding in @connectauth/node; index.ts re-exports them as they are.
export { insecureTransportReason, tokenUnavailableReason } from "@connectauth/core";

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
  return clientError(
    `connectauth got no token for this call (${cause}); the token source backs off before trying again`,
    { cause },
  );
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
  return clientError(
    "connectauth sent nothing: the token is not a token68 (RFC 6750 §2.1)",
    { detail: "malformed_token" },
  );
}

function clientError(message: string, metadata: Record<string, string>): ConnectError {
  return new ConnectError(message, Code.Unavailable, undefined, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: tokenUnavailableReason, domain: errorDomain, metadata }) },
  ]);
}
