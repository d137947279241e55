// How the browser page words its token sources' state: one line, never a token.
import type { TokenSourceState } from "@connectauth/client";

/** The time of day of an epoch-ms instant, as the page shows it (UTC, to the second). */
const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * The page's line for a token source's state: `empty`, `refreshing`, `fresh, expires 12:05:00 UTC`,
 * `failing (TOKEN_UNAVAILABLE ECONNREFUSED), next try 12:00:02 UTC`.
 *
 * ```ts
 * tokenSourceStateOf(auth)?.onStateChange((s) => (el.textContent = `token source: ${describeTokenState(s)}`));
 * ```
 */
export function describeTokenState(state: TokenSourceState): string {
  const expires =
    state.status !== "empty" && state.expiresAt !== undefined && state.expiresAt < Infinity
      ? `, expires ${clockTime(state.expiresAt)} UTC`
      : "";
  if (state.status === "failing") {
    return `failing (${state.reason} ${state.cause}), next try ${clockTime(state.retryAt)} UTC${expires}`;
  }
  return `${state.status}${expires}`;
}
