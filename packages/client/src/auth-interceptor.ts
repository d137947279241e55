import type { Interceptor } from "@connectrpc/connect";
import { authorizationHeader, ruleOf } from "@connectauth/core";
import { type TokenInput, toTokenSource } from "./token-source.js";
import { assertSecureTransport } from "./transport-guard.js";

/** Options of {@link createAuthInterceptor}. */
export interface AuthInterceptorOptions {
  /** The bearer token of each call: a string, a function, or a {@link TokenSource}. */
  readonly token: TokenInput;
  /**
   * Send credentials over plaintext `http://` to hosts that are not loopback. Default `false`: such
   * calls fail before a request is made. Loopback hosts are always allowed.
   */
  readonly allowInsecureTransport?: boolean;
}

/**
 * Creates a client interceptor that sends `authorization: Bearer <token>` on every call whose method
 * is not public by its proto rule (`(connectauth.v1.method_rule) = {public: true}`), and refuses to send
 * it in plaintext to a remote host.
 *
 * ```ts
 * const transport = createConnectTransport({
 *   baseUrl: "https://api.example.com",
 *   interceptors: [createAuthInterceptor({ token: () => auth.currentToken() })],
 * });
 * ```
 *
 * @throws TypeError when the token option is missing or of the wrong type.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  const source = toTokenSource(options.token);
  const allowInsecure = options.allowInsecureTransport === true;
  return (next) => async (req) => {
    if (ruleOf(req.method).public) {
      return next(req);
    }
    if (!allowInsecure) {
      assertSecureTransport(req.url);
    }
    const token = await source.getToken();
    req.header.set(authorizationHeader, `Bearer ${token}`);
    return next(req);
  };
}
