export { createServerAuth, type ServerAuth, type ServerAuthOptions } from "./server-auth.js";
export {
  createJwtAuthenticator,
  type JwtAuthenticatorOptions,
  type JwtKeySource,
} from "./jwt-authenticator.js";
export { type Authenticator, type AuthOutcome, accepted, rejected } from "./authenticator.js";
export { type AuthIdentity, authIdentityKey, getAuth } from "./identity.js";
export { type DecisionEvent, type DecisionListener, shortHash } from "./decision.js";
