// Plumbing between connectauth's own packages (like `@connectrpc/connect/protocol`): not for apps.

/**
 * The client's refusals (`INSECURE_TRANSPORT`, `TOKEN_UNAVAILABLE`), for the packages that send
 * credentials (`@connectauth/client`, `@connectauth/node`).
 */
export { clientRefusal } from "./client-reason.js";

/** The scopes of one claim value, added to a set, for the packages that read scopes from claims. */
export { addScopes } from "./scopes.js";
