export { Reason, errorDomain, isTokenReason } from "./reason.js";
export type { BearerErrorCode, DpopErrorCode } from "./reason.js";
export { type Challenge, formatChallenge, parseChallenges } from "./challenge.js";
export { tokenHash } from "./token-hash.js";
export { isLoopbackUrl } from "./loopback.js";
export { assertSecureTransport, type SecureTransportOptions } from "./secure-transport.js";
export { ClientReason } from "./client-reason.js";
export {
  createAuthError,
  wwwAuthenticateHeader,
  dpopHeader,
  dpopNonceHeader,
  type AuthErrorOptions,
  type ChallengeScheme,
} from "./auth-error.js";
export { readAuthFailure, type AuthFailure, type AuthFailureAction } from "./auth-failure.js";
export {
  parseAuthorization,
  authorizationHeader,
  type Credentials,
  type ParseAuthorizationOptions,
} from "./authorization-header.js";
export { scopesFromClaims, defaultScopeClaims, type ScopeRequirement } from "./scopes.js";
export {
  ruleOf,
  isPublicMethod,
  createRuleResolver,
  requiredScopesOf,
  type EffectiveRule,
  type RuleRequirements,
  type ClaimMatch,
  type RuleInit,
  type CandidateRuleInit,
  type RuleResolver,
  type RuleResolverOptions,
} from "./rule.js";
export { ErrorInfoSchema, type ErrorInfo } from "./gen/google/rpc/error_details_pb.js";
export {
  AuthRuleSchema,
  type AuthRule,
  ClaimRequirementSchema,
  type ClaimRequirement,
  method_rule,
  service_rule,
} from "./gen/connectauth/v1/auth_pb.js";
