// The timers code sets while a test watches, to show that none is left behind (unref'd ones included,
// which `process.getActiveResourcesInfo` does not list).

/** The timers set while tracking, counted until they fire or are cleared. */
export interface TimerTracker {
  /** How many of the tracked timers are still pending (set, neither fired nor cleared). */
  live(): number;
  /** How many timers were tracked since tracking began, pending or not. */
  created(): number;
  /** Puts `globalThis.setTimeout` and `clearTimeout` back. */
  restore(): void;
}

/**
 * Wraps `globalThis.setTimeout` and `clearTimeout` to track the timers set from here on; with `setFrom`,
 * only those set by code whose stack (the callers of `setTimeout`) mentions it: a file name, or a pattern
 * such as `/\/packages\/server\//`. Call `restore()` in a `finally`.
 *
 * ```ts
 * const timers = trackTimers("health-service.ts");
 * try {
 *   // … start and end a Watch …
 *   assert.equal(timers.live(), 0, "no timer left behind");
 * } finally {
 *   timers.restore();
 * }
 * ```
 *
 * Not tracked: `setInterval`, `setImmediate`, and timers of code that kept its own reference to the
 * original `setTimeout` (node:timers imports among them).
 */
export function trackTimers(setFrom?: string | RegExp): TimerTracker {
  const { setTimeout: set, clearTimeout: clear } = globalThis;
  const live = new Set<unknown>();
  let created = 0;
  const tracked = (stack: string) =>
    setFrom === undefined || (typeof setFrom === "string" ? stack.includes(setFrom) : setFrom.test(stack));
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = set(() => {
      live.delete(t);
      fn(...args);
    }, ms);
    if (tracked(callers(new Error().stack))) {
      live.add(t);
      created++;
    }
    return t;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
    live.delete(t);
    clear(t);
  }) as typeof clearTimeout;
  return {
    live: () => live.size,
    created: () => created,
    restore() {
      globalThis.setTimeout = set;
      globalThis.clearTimeout = clear;
    },
  };
}

/** The frames of a stack but its message and this module's own (the wrapper, and a fired timer's callback). */
function callers(stack: string | undefined): string {
  const lines = (stack ?? "").split("\n").slice(1);
  return lines.filter((line) => !line.includes("/test-support/timers.")).join("\n");
}
