/**
 * The candidate closest to `name`, for "did you mean" messages only (never to decide anything): one
 * equal to it ignoring case if there is one, else the one fewest single-character edits away
 * (Levenshtein distance, ignoring case), the first listed on a tie. `undefined` without candidates.
 *
 * ```ts
 * closestName("example.v1.GreeterService/ping", ["example.v1.GreeterService", "example.v1.GreeterService/Ping"]);
 * // "example.v1.GreeterService/Ping"
 * ```
 *
 * Not checked: how far the closest candidate is. One is returned however different it is, so a
 * message built with it must still say that `name` itself is wrong.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    // Equal ignoring case is distance 0: the case-insensitive match comes first by construction.
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      if (distance === 0) break;
    }
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions of UTF-16 units), two rows of memory. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}
