import { type ContextValues, createContextKey, createContextValues } from "@connectrpc/connect";
import { type TokenInput, type TokenSource, toTokenSource } from "./token-source.js";

/**
 * The context key of a per-call token source; see {@link withCallToken}, which sets it.
 *
 * ```ts
 * const values = createContextValues().set(callTokenKey, toTokenSource("other-token"));
 * ```
 */
// No description: the key is never printed, and the browser bundle has a budget.
export const callTokenKey = createContextKey<TokenSource | undefined>(undefined);

/**
 * Context values that make one call use another token (or token source) than the interceptor's: e.g. a
 * token for another audience, or a user's token on a call made on their behalf. Everything else (the
 * transport guard, the retry after a rejection) applies as usual.
 *
 * ```ts
 * await client.greet({}, { contextValues: withCallToken(oauth.forAudience("billing")) });
 * ```
 *
 * @param values Existing context values to add to (default: new ones).
 * @throws TypeError for an input that is not a token input, or a string that is not a token68.
 */
export function withCallToken(token: TokenInput, values: ContextValues = createContextValues()): ContextValues {
  return values.set(callTokenKey, toTokenSource(token));
}
