/**
 * The `ErrorInfo.reason` of a call refused by the client itself because it would send a credential in
 * clear: `FailedPrecondition`, before any request is made (see `assertSecureTransport`). A client in
 * this sense is anything that sends credentials: `@connectauth/client`'s interceptor and
 * `@connectauth/node`'s credential forwarding.
 *
 * ```ts
 * if (readClientAuthFailure(e)?.reason === insecureTransportReason) useHttps();
 * ```
 */
export const insecureTransportReason = "INSECURE_TRANSPORT";

/**
 * The `ErrorInfo.reason` of a call refused by the client itself because it has no usable token: its
 * token source (or a forwarding's `exchange`) failed, or gave a value that is not a token68
 * (`metadata.detail` `malformed_token`). `Unavailable`; nothing was sent.
 *
 * ```ts
 * if (readClientAuthFailure(e)?.reason === tokenUnavailableReason) retryLater();
 * ```
 */
export const tokenUnavailableReason = "TOKEN_UNAVAILABLE";
