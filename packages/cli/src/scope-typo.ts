/**
 * Whether one scope looks like a typo of another: they differ only in case, or by one character
 * added, dropped or replaced, or by two neighbouring characters swapped. Replacing a digit
 * (`api.v1`, `api.v2`) or the first character of a segment (`user.get`, `user.set`) names another
 * scope on purpose and does not count; neither do scopes shorter than 4 characters.
 *
 * ```ts
 * isLikelyTypo("acounts.read", "accounts.read"); // true
 * isLikelyTypo("books.read", "books.write");     // false
 * ```
 *
 * Not checked: meaning. Two one-typo-apart scopes may both be intended (`book.read`, `books.read`);
 * the audit asks, it does not decide.
 */
export function isLikelyTypo(a: string, b: string): boolean {
  if (a === b || Math.min(a.length, b.length) < 4) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return true;
  if (Math.abs(x.length - y.length) === 1) return dropsOne(x.length > y.length ? x : y, x.length > y.length ? y : x);
  if (x.length !== y.length) return false;
  const diff = [...x].flatMap((c, i) => (c === y[i] ? [] : [i]));
  if (diff.length === 2) {
    const [i, j] = diff as [number, number];
    return j === i + 1 && x[i] === y[j] && x[j] === y[i];
  }
  if (diff.length !== 1) return false;
  const i = diff[0];
  const segmentStart = i === 0 || separators.includes(x[i - 1]);
  return !segmentStart && !/[0-9]/.test(x[i]) && !/[0-9]/.test(y[i]);
}

const separators = [".", ":", "/", "_", "-", " "];

/** `longer` is `shorter` with one character added somewhere. */
function dropsOne(longer: string, shorter: string): boolean {
  let i = 0;
  while (i < shorter.length && longer[i] === shorter[i]) i++;
  return longer.slice(i + 1) === shorter.slice(i);
}
