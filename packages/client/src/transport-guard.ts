import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ErrorInfoSchema, errorDomain } from "@connectauth/core";

/** The `ErrorInfo.reason` of a call refused by the client because it would send a credential in clear. */
export const insecureTransportReason = "INSECURE_TRANSPORT";

/** The `ErrorInfo.reason` of a call refused by the client because its token source failed. */
export const tokenUnavailableReason = "TOKEN_UNAVAILABLE";

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
    Code.Unavailable,
    tokenUnavailableReason,
    { cause },
  );
}

function clientError(message: string, code: Code, reason: string, metadata: Record<string, string> = {}): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: errorDomain, metadata }) },
  ]);
}

/**
 * Whether a URL's host is a loopback address (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`), where
 * plaintext HTTP never leaves the machine.
 *
 * ```ts
 * isLoopbackUrl("http://127.0.0.1:8080/x"); // true
 * isLoopbackUrl("http://api.internal/x"); // false
 * ```
 */
export function isLoopbackUrl(url: string | URL): boolean {
  let host: string;
  try {
    host = (typeof url === "string" ? new URL(url) : url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === "localhost" || host.endsWith(".localhost") || host === "[::1]") {
    return true;
  }
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Refuses to send a credential over plaintext `http:` to a host that is not loopback. The error is a
 * `ConnectError` with code `FailedPrecondition` and `ErrorInfo.reason` `INSECURE_TRANSPORT`, thrown
 * before any request is made.
 */
export function assertSecureTransport(url: string): void {
  if (url.startsWith("https:") || !url.startsWith("http:") || isLoopbackUrl(url)) {
    return;
  }
  let origin = "the server";
  try {
    origin = new URL(url).origin;
  } catch {
    // keep the generic name
  }
  throw clientError(
    `connectauth sends no credentials in plaintext to ${origin}: use an https:// base URL, or set ` +
      `allowInsecureTransport: true on a network secured otherwise (e.g. a mesh with mTLS)`,
    Code.FailedPrecondition,
    insecureTransportReason,
  );
}
