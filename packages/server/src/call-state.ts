import { type ContextKey, type ContextValues, createContextKey } from "@connectrpc/connect";
import { type Denial, fault } from "./denial.js";
import { authIdentityKey } from "./identity.js";

/**
 * Per-call bookkeeping of one `createServerAuth`, bound to the call it belongs to.
 *
 * The state rides in the call's context values under a key private to the server, tagged with the
 * call's `AbortSignal`: Connect makes a signal for every call, after the application's `contextValues`
 * hook has run, and hands the same one to the gate (`HandlerContext.signal`) and to the interceptors
 * (`req.signal`). So a hook cannot hand a call state it did not earn: context values that come back
 * with another call's signal were shared, and that call is refused, since what the server writes into
 * them (the identity) would reach the other call's handler. Context values that arrive holding an
 * identity are refused too.
 */
export interface CallStates<S extends { readonly signal: AbortSignal }> {
  /**
   * Starts the auth of a call, or finds the state its gate left: `{ state, started: true }` for a call
   * seen for the first time (its state is `init(signal)`), `{ state, started: false }` for a call whose
   * gate already ran, and a {@link Denial} (a fault) for context values of another call or carrying an
   * identity.
   */
  enter(values: ContextValues, signal: AbortSignal, init: (signal: AbortSignal) => S): { state: S; started: boolean } | Denial;
  /** The state a gate or interceptor of this server left in these context values, if any. */
  peek(values: ContextValues): S | undefined;
}

/** Creates the per-call bookkeeping of one server. */
export function createCallStates<S extends { readonly signal: AbortSignal }>(): CallStates<S> {
  // Under a key of this server's own, bound to the call's signal: a hook that hands the same object to
  // two calls makes the second find another call's signal.
  const key: ContextKey<S | undefined> = createContextKey<S | undefined>(undefined, { description: "connectauth call" });
  return {
    enter(values, signal, init) {
      const known = values.get(key);
      if (known !== undefined) {
        return known.signal === signal ? { state: known, started: false } : sharedValues;
      }
      if (values.get(authIdentityKey) !== undefined) return presetIdentity;
      const state = init(signal);
      values.set(key, state);
      return { state, started: true };
    },
    peek: (values) => values.get(key),
  };
}

const sharedValues = fault(
  "connectauth: this call's context values were used by another call: the contextValues hook must create them per request",
);
const presetIdentity = fault(
  "connectauth: this call's context values already hold an identity: only connectauth sets it, after checking the call",
);
