export { createAuthInterceptor, type AuthInterceptorOptions } from "./auth-interceptor.js";
export { type TokenSource, type TokenInput, type TokenSourcePeek, toTokenSource } from "./token-source.js";
export {
  watchTokenSource,
  tokenSourceStateOf,
  type TokenSourceState,
  type TokenSourceStateListener,
  type TokenSourceStateView,
} from "./token-source-state.js";
export {
  createCachedTokenSource,
  type CachedTokenSource,
  type CachedTokenSourceOptions,
  type IssuedToken,
} from "./cached-token-source.js";
export { withCallToken, callTokenKey } from "./call-token.js";
export {
  resumableStream,
  type ResumableStreamOptions,
  type ResumeEvent,
  type StreamOpener,
} from "./resumable-stream.js";
export type { ClientAuthEvent, ClientAuthEventHandler } from "./client-auth-event.js";
// The type of the interceptor's `dpop` option; provers come from the `@connectauth/client/dpop` entry.
export type { DpopProver } from "./dpop-prover.js";
// What the client shares with the rest of connectauth, re-exported as core has it: the one failure
// reader and its reasons, the plaintext guard and its loopback check, the token hash of events.
export {
  readAuthFailure,
  type AuthFailure,
  type AuthFailureAction,
  Reason,
  ClientReason,
  isTokenReason,
  assertSecureTransport,
  type SecureTransportOptions,
  isLoopbackUrl,
  tokenHash,
} from "@connectauth/core";
