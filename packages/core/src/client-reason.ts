import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo } from "./error-info.js";

/**
 * The reasons of the calls a client refuses itself, before any request is made: the `ErrorInfo.reason`
 * (domain `connectauth`) of its own errors, next to the server's `Reason`s. A client here is anything
 * that sends credentials: `@connectauth/client`'s interceptor and `@connectauth/node`'s credential
 * forwarding. `readAuthFailure` reads them like the server's.
 *
 * ```ts
 * import { ClientReason, readAuthFailure } from "@connectauth/client";
 * if (readAuthFailure(e)?.reason === ClientReason.InsecureTransport) useHttps();
 * ```
 *
 * Neither is a token reason: a client never refreshes or retries on them. Not checked: that an error
 * with one of them came from a client (a server may send any `ErrorInfo`).
 */
export const ClientReason = {
  /**
   * `FailedPrecondition`: the credential would travel in clear (`http:` to a host that is not loopback,
   * another scheme, or an unparsable URL; see `assertSecureTransport`).
   */
  InsecureTransport: "INSECURE_TRANSPORT",
  /**
   * `Unavailable`: no usable token. The token source (or a forwarding's `exchange`) failed
   * (`metadata.cause`: its stable code), or gave a value that is not a token68 (`metadata.detail`
   * `malformed_token`).
   */
  TokenUnavailable: "TOKEN_UNAVAILABLE",
} as const;

/** One of the values of {@link ClientReason}. */
export type ClientReason = (typeof ClientReason)[keyof typeof ClientReason];

/**
 * The error of a call a client refuses itself, before any request: the code of the reason
 * (`FailedPrecondition` for {@link ClientReason.InsecureTransport}, `Unavailable` for
 * {@link ClientReason.TokenUnavailable}) and its `ErrorInfo`, with no challenge. Plumbing of the
 * packages that send credentials (`@connectauth/core/protocol`); apps read these errors with
 * `readAuthFailure`.
 *
 * ```ts
 * throw clientRefusal(ClientReason.TokenUnavailable, "connectauth sent nothing: the token is not a token68", { detail: "malformed_token" });
 * ```
 *
 * Not checked: that `message` and `metadata` hold no token (the caller's duty: they never may).
 */
export function clientRefusal(reason: ClientReason, message: string, metadata?: Readonly<Record<string, string>>): ConnectError {
  // Two reasons, two codes (client-reason.test.ts fails when a third one comes without its code here).
  return errorWithInfo(reason === "INSECURE_TRANSPORT" ? Code.FailedPrecondition : Code.Unavailable, reason, message, metadata);
}
