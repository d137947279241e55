import type { ContextValues } from "@connectrpc/connect";
import { type Denial, fault } from "./denial.js";
import { authIdentityKey } from "./identity.js";

/**
 * Per-call bookkeeping of one `createServerAuth`, kept by the server rather than in the call's context
 * values (which the application's `contextValues` hook makes, and may share by mistake).
 *
 * A call is known by its `ContextValues` object together with its `AbortSignal`: Connect makes a
 * signal for every call and hands the same one to the gate (`HandlerContext.signal`) and to the
 * interceptors (`req.signal`). Context values seen with another signal belong to another call: they
 * were shared, and the call is refused, since what the server writes into them (the identity) would
 * reach the other call's handler. Context values that arrive holding an identity are refused too.
 */
export interface CallStates<S extends object> {
  /**
   * Starts the auth of a call, or finds the state its gate left: `{ state, started: true }` for a call
   * seen for the first time (its state is `init()`), `{ state, started: false }` for a call whose gate
   * already ran, and a {@link Denial} (a fault) for context values of another call or carrying an identity.
   */
  enter(values: ContextValues, signal: AbortSignal, init: () => S): { state: S; started: boolean } | Denial;
}

/** Creates the per-call bookkeeping of one server. */
export function createCallStates<S extends object>(): CallStates<S> {
  const calls = new WeakMap<ContextValues, { readonly signal: AbortSignal; readonly state: S }>();
  return {
    enter(values, signal, init) {
      const known = calls.get(values);
      if (known !== undefined) {
        return known.signal === signal ? { state: known.state, started: false } : sharedValues;
      }
      if (values.get(authIdentityKey) !== undefined) return presetIdentity;
      const state = init();
      calls.set(values, { signal, state });
      return { state, started: true };
    },
  };
}

const sharedValues = fault(
  "connectauth: this call's context values were used by another call: the contextValues hook must create them per request",
);
const presetIdentity = fault(
  "connectauth: this call's context values already hold an identity: only connectauth sets it, after checking the call",
);
