// How the browser page words its token source's state: one line, never a token.
import type { TokenSourceState } from "@connectauth/client";

/** The time of day of an epoch-ms instant, as the page shows it (UTC, to the second). */
const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * The page's line for a token source's state: `fresh, expires 12:05:00 UTC`, `refreshing`, `failing
 * (ECONNREFUSED), next try 12:00:02 UTC`, `expiring…` or `empty`.
 *
 * ```ts
 * source.onStateChange((s) => (el.textContent = `token source: ${describeTokenState(s)}`));
 * ```
 */
export function describeTokenState(state: TokenSourceState): string {
  const expires =
    state.expiresAt !== undefined && state.expiresAt < Infinity ? `, expires ${clockTime(state.expiresAt)} UTC` : "";
  if (state.status === "failing") {
    return `failing (${state.reason}), next try ${clockTime(state.retryAt ?? 0)} UTC${expires}`;
  }
  return `${state.status}${expires}`;
}
