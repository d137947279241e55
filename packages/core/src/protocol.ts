// Plumbing between connectauth's own packages (like `@connectrpc/connect/protocol`): not for apps.

/**
 * The client's refusals (`INSECURE_TRANSPORT`, `TOKEN_UNAVAILABLE`), for the packages that send
 * credentials (`@connectauth/client`, `@connectauth/node`).
 */
export { clientRefusal } from "./client-reason.js";

/** The scopes of one claim value, added to a set, for the packages that read scopes from claims. */
export { addScopes } from "./scopes.js";

/**
 * The parse of an `Authorization` header as a value (split, then the credential's syntax), and the one
 * token68 syntax, for servers and clients.
 */
export {
  type AuthorizationFault,
  credentialFault,
  isToken68,
  readAuthorization,
  splitAuthorization,
} from "./authorization-header.js";

/** The contract's code of a reason, and whether a string is one of the reasons. */
export { codeOf, isReason } from "./reason.js";

/** A claim by its dot path, and what a rule's scopes require and miss, for the server's authorization. */
export { type ScopeDifference, claimAt, scopeDifference } from "./scopes.js";
