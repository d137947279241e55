import type { Authenticator } from "./authenticator.js";

type Authenticate = Authenticator["authenticate"];

const checkingTheirOwn = new WeakSet<Authenticate>();

/**
 * @internal Records an `authenticate` of connectauth's that checks the syntax of its credentials
 * itself: it refuses a credential that is not a token68 before reading it, and accepts none (a token
 * found in its cache is one it checked before caching it). The server leaves the token68 scan of an
 * `Authorization` credential to such a function, so that a token seen again is not scanned again, and
 * scans it only if the function refuses it, to refuse it as it would have (`MALFORMED_CREDENTIALS`).
 *
 * ```ts
 * const authenticator = { name, schemes: ["bearer"], authenticate: checksItsCredentialSyntax(authenticate) };
 * ```
 *
 * The function is what is recorded, not the authenticator: a copy (`{ ...jwt }`) keeps it, while an
 * authenticator whose `authenticate` was replaced or wrapped (`jwt.authenticate = mine`) has another
 * function, whose credentials the server scans before calling it. Not checked: that the function
 * really does what this says (only connectauth's own authenticators call this).
 */
export function checksItsCredentialSyntax<F extends Authenticate>(authenticate: F): F {
  checkingTheirOwn.add(authenticate);
  return authenticate;
}

/**
 * @internal Whether {@link checksItsCredentialSyntax} recorded this very function.
 *
 * ```ts
 * checksCredentialSyntax(jwt.authenticate); // true for createJwtAuthenticator's
 * ```
 */
export function checksCredentialSyntax(authenticate: Authenticate): boolean {
  return checkingTheirOwn.has(authenticate);
}
