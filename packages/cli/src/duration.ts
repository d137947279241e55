/**
 * A duration in seconds for people: `45 s`, `12 min`, `3 h`, `4 days` (the sign is dropped).
 *
 * ```ts
 * humanDuration(-7200); // "2 h"
 * ```
 */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
