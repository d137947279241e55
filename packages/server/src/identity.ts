import { createContextKey, type HandlerContext } from "@connectrpc/connect";

/**
 * Who is calling, as established by an authenticator.
 */
export interface AuthIdentity {
  /** The caller: the token's `sub` (or `client_id`), an API key's name, a certificate's subject. */
  readonly subject: string;
  /** The scopes granted to the caller. */
  readonly scopes: ReadonlySet<string>;
  /** The verified claims (JWT payload); empty for credentials without claims. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The name of the authenticator that accepted the credential, e.g. `"jwt"`. */
  readonly authenticator: string;
  /**
   * How the credential was bound to the caller's key, when it was: `jkt`, the RFC 7638 thumbprint of
   * the key that signed the call's DPoP proof, equal to the token's `cnf.jkt` (RFC 9449 §6). Absent
   * for a bearer credential.
   */
  readonly confirmation?: { readonly jkt: string };
}

/**
 * The context value holding the caller's identity; `undefined` for an anonymous call to a public method.
 * Prefer {@link getAuth}.
 */
export const authIdentityKey = createContextKey<AuthIdentity | undefined>(undefined, {
  description: "connectauth identity",
});

/**
 * The identity of the caller of the current call, or `undefined` for an anonymous call to a public
 * method. Set by the gate (or interceptor) of {@link createServerAuth} before the handler runs.
 *
 * ```ts
 * const routes = (router: ConnectRouter) =>
 *   router.service(GreeterService, {
 *     greet(req, ctx) {
 *       const caller = getAuth(ctx);
 *       return { greeting: `Hello ${req.name}, from ${caller?.subject}` };
 *     },
 *   });
 * ```
 */
export function getAuth(context: Pick<HandlerContext, "values">): AuthIdentity | undefined {
  return context.values.get(authIdentityKey);
}
