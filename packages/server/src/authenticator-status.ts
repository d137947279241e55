import type { AuthenticatorStatus } from "./auth-readiness.js";
import type { KeySourceStatus } from "./key-source-status.js";
import type { RevocationList } from "./revocation-list.js";

/**
 * @internal The readiness hooks of an authenticator (`status`, `prefetch`, `onStatusChange`), put on
 * it as they are.
 *
 * ```ts
 * const authenticator: Authenticator = { name, schemes, authenticate, ...authenticatorStatusHooks(keys, list) };
 * ```
 *
 * Not checked: anything by itself (see {@link authenticatorStatusHooks}).
 */
export interface AuthenticatorStatusHooks {
  status(): AuthenticatorStatus;
  prefetch(): Promise<void>;
  onStatusChange(listener: () => void): () => void;
}

/** How often a revocation list's status is read while someone listens (lists have no change events). */
const revocationPollMs = 250;

/**
 * @internal The readiness of a JWT authenticator: its keys' status and its revocation list's, ready
 * only when both are. The keys' fields (age, next fetch, last fault) come first; a list that is not
 * caught up adds its fault as `revocation_<word>` (e.g. `revocation_unreachable`) when the keys have
 * none. `prefetch` fetches the keys; `onStatusChange` follows the keys' events and reads the list's
 * status every 250 ms while at least one listener is subscribed (on an unref'd timer). `undefined`
 * when neither is known (your own key lookup, and no list): the authenticator then has no hooks.
 *
 * ```ts
 * const hooks = authenticatorStatusHooks(keySourceStatusOf(getKey), options.revocation);
 * hooks?.status(); // { ready: false, lastError: "revocation_unreachable" }
 * ```
 *
 * Not checked: how stale the list is while it still answers (see its `status().staleSinceMs`).
 */
export function authenticatorStatusHooks(
  keys: KeySourceStatus | undefined,
  revocation: RevocationList | undefined,
): AuthenticatorStatusHooks | undefined {
  if (keys === undefined && revocation === undefined) return undefined;
  const status = (): AuthenticatorStatus => {
    const k = keys?.status() ?? { ready: true };
    const r = revocationStatusOf(revocation);
    if (r.ready) return k;
    const lastError = k.lastError ?? (r.lastError === undefined ? undefined : `revocation_${r.lastError}`);
    return lastError === undefined ? { ...k, ready: false } : { ...k, ready: false, lastError };
  };
  const listeners = new Set<() => void>();
  let stopKeys: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let reported = "";
  const changeKey = () => {
    const s = status();
    return `${s.ready}|${s.lastError ?? ""}`;
  };
  const notify = () => {
    const key = changeKey();
    if (key === reported) return;
    reported = key;
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch {
        // A listener's fault is its own: the others are still told.
      }
    }
  };
  const start = () => {
    reported = changeKey();
    stopKeys = keys?.onChange(notify);
    if (revocation !== undefined) {
      timer = setInterval(notify, revocationPollMs);
      (timer as unknown as { unref?: () => void }).unref?.();
    }
  };
  const stop = () => {
    stopKeys?.();
    stopKeys = undefined;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  return {
    status,
    prefetch: async () => {
      await keys?.prefetch();
    },
    onStatusChange(listener) {
      if (typeof listener !== "function") throw new TypeError("onStatusChange: listener must be a function");
      const entry = () => listener();
      listeners.add(entry);
      if (listeners.size === 1) start();
      return () => {
        if (!listeners.delete(entry)) return;
        if (listeners.size === 0) stop();
      };
    },
  };
}

// A list whose status() throws or answers something else is not ready.
function revocationStatusOf(list: RevocationList | undefined): { ready: boolean; lastError?: string } {
  if (list === undefined) return { ready: true };
  try {
    const s = list.status();
    return s?.ready === true
      ? { ready: true }
      : { ready: false, lastError: typeof s?.lastError === "string" ? s.lastError : undefined };
  } catch {
    return { ready: false, lastError: "status_failed" };
  }
}
