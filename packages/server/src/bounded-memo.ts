/**
 * @internal A function of a string memoised in a bounded map: the last `maxEntries` strings computed
 * are kept with their results (the one computed longest ago is dropped first), so a caller that asks
 * about the same few strings pays one map look-up each time.
 *
 * ```ts
 * const pathOf = boundedMemo(256, (url) => new URL(url).pathname);
 * pathOf("https://api.example.com/a?b"); // "/a", parsed once
 * ```
 *
 * Not checked: that `compute` is pure (it must be: its result is reused for the same string), nor the
 * strings' length (the caller bounds them: each is held while its entry is).
 *
 * @throws TypeError on a `maxEntries` that is not an integer >= 1.
 */
export function boundedMemo<T>(maxEntries: number, compute: (key: string) => T): (key: string) => T {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("boundedMemo: maxEntries must be an integer >= 1");
  const results = new Map<string, T>();
  return (key) => {
    const known = results.get(key);
    if (known !== undefined || results.has(key)) return known as T;
    const result = compute(key);
    if (results.size >= maxEntries) results.delete(results.keys().next().value as string);
    results.set(key, result);
    return result;
  };
}
