export {
  createServerAuth,
  type ServerAuth,
  type ServerAuthOptions,
  type ServerAuthRouterOptions,
  type ServerAuthWarning,
} from "./server-auth.js";
export {
  createAuthorization,
  claimMatches,
  requiredScopes,
  type Authorization,
  type AuthorizationOptions,
} from "./authorization.js";
export { compileCondition, type CompiledCondition, type ConditionInput } from "./condition.js";
export {
  createJwtAuthenticator,
  type JwtAuthenticatorOptions,
  type JwtAuthenticatorCommonOptions,
  type JwtIssuerOptions,
  type JwtKeySource,
} from "./jwt-authenticator.js";
export {
  createMultiIssuerJwtAuthenticator,
  type MultiIssuerJwtAuthenticatorOptions,
} from "./multi-issuer-jwt-authenticator.js";
export {
  type RemoteKeyOptions,
  KeySourceUnavailableError,
  createDiscoveryKeySource,
  createRemoteKeySource,
} from "./key-source.js";
export {
  type VerifiedTokenCache,
  type VerifiedTokenCacheOptions,
  createVerifiedTokenCache,
} from "./verified-token-cache.js";
export {
  type ApiKeyAuthenticatorOptions,
  type ApiKeyEntry,
  createApiKeyAuthenticator,
  hashApiKey,
} from "./api-key-authenticator.js";
export {
  type Authenticator,
  type AuthCall,
  type AuthOutcome,
  type PresentedCredentials,
  accepted,
  rejected,
} from "./authenticator.js";
export { type AuthIdentity, authIdentityKey, getAuth } from "./identity.js";
export { type DecisionEvent, type DecisionListener } from "./decision.js";
/** The 8-hex name of a credential in decision events: {@link tokenHash} of `@connectauth/core`. */
export { tokenHash as shortHash } from "@connectauth/core";
