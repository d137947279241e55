export { createAuthInterceptor, type AuthInterceptorOptions } from "./auth-interceptor.js";
export { type TokenSource, type TokenInput, toTokenSource } from "./token-source.js";
export { isLoopbackUrl, assertSecureTransport, insecureTransportReason } from "./transport-guard.js";
export { readAuthFailure, type AuthFailure, Reason, isTokenReason } from "@connectauth/core";
