export { createAuthInterceptor, type AuthInterceptorOptions } from "./auth-interceptor.js";
export { type TokenSource, type TokenInput, toTokenSource } from "./token-source.js";
export {
  createCachedTokenSource,
  type CachedTokenSource,
  type CachedTokenSourceOptions,
  type IssuedToken,
} from "./cached-token-source.js";
export { withCallToken, callTokenKey } from "./call-token.js";
export { type ClientAuthEvent, type ClientAuthEventHandler } from "./client-auth-event.js";
export { tokenHash } from "@connectauth/core";
export {
  isLoopbackUrl,
  assertSecureTransport,
  insecureTransportReason,
  tokenUnavailableReason,
  type SecureTransportOptions,
} from "@connectauth/core";
export {
  readClientAuthFailure,
  type ClientAuthFailure,
  type ClientAuthReason,
  type AuthFailureAction,
} from "./auth-failure.js";
export { readAuthFailure, type AuthFailure, Reason, isTokenReason } from "@connectauth/core";
