export {
  createServerAuth,
  type ServerAuth,
  type ServerAuthOptions,
  type ServerAuthInstallable,
  type ServerAuthRouterOptions,
  type ServerAuthWarning,
} from "./server-auth.js";
export type { AuthorizationOptions } from "./authorization.js";
export {
  createJwtAuthenticator,
  type JwtAuthenticatorOptions,
  type JwtAuthenticatorCommonOptions,
} from "./jwt-authenticator.js";
export type { JwtIssuerOptions } from "./jwt-issuer-options.js";
export type { JwtKeySource } from "./key-source.js";
export {
  createMultiIssuerJwtAuthenticator,
  type MultiIssuerJwtAuthenticatorOptions,
} from "./multi-issuer-jwt-authenticator.js";
export { type RemoteKeyOptions, createRemoteKeySource } from "./remote-key-source.js";
export { createDiscoveryKeySource } from "./discovery-key-source.js";
export { KeySourceUnavailableError } from "./key-lookup-errors.js";
export type { VerifiedTokenCacheOptions } from "./verified-token-cache.js";
export {
  type ApiKeyAuthenticatorOptions,
  type ApiKeyEntry,
  createApiKeyAuthenticator,
  hashApiKey,
} from "./api-key-authenticator.js";
export {
  type Authenticator,
  type AuthenticatorChallenge,
  type AuthCall,
  type AuthOutcome,
  type PresentedCredentials,
  accepted,
  rejected,
} from "./authenticator.js";
export type { AuthChallenge } from "./denial.js";
export type { DpopMode, DpopOptions } from "./dpop-binding.js";
export type { DpopNonceOptions } from "./dpop-nonce.js";
export {
  type MemoryReplayStoreOptions,
  type ReplayStore,
  ReplayStoreFullError,
  createMemoryReplayStore,
} from "./replay-store.js";
export {
  type MemoryRevocationListOptions,
  type Revocation,
  type RevocationList,
  type RevocationListStatus,
  type RevocationSubject,
  createMemoryRevocationList,
  revocationDigest,
} from "./revocation-list.js";
export { type AuthIdentity, authIdentityKey, getAuth } from "./identity.js";
export type { DecisionEvent, DecisionListener, ShadowDecision } from "./decision.js";
export type { StreamLifetimeOptions } from "./stream-lifetime.js";
export {
  type AuthenticatorStatus,
  type AuthReadiness,
  type AuthReadinessStatus,
  type ReadinessSource,
  type ReadyOptions,
  AuthNotReadyError,
  createAuthReadiness,
} from "./auth-readiness.js";
export { type HealthReadiness, type HealthServiceOptions, createHealthService, healthRoutes } from "./health-service.js";
export { Health, type HealthCheckResponse, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health_pb.js";
