export { createServerAuth, type ServerAuth, type ServerAuthOptions } from "./server-auth.js";
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
  type JwtKeySource,
} from "./jwt-authenticator.js";
export { type Authenticator, type AuthCall, type AuthOutcome, accepted, rejected } from "./authenticator.js";
export { type AuthIdentity, authIdentityKey, getAuth } from "./identity.js";
