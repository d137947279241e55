import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { isLikelyTypo } from "./scope-typo.js";

/** Each pair, and whether it is a likely typo: the first kind one edit apart, the second distinct scopes. */
const pairs: readonly (readonly [string, string, boolean])[] = [
  // One character dropped, added, replaced or swapped, or a case difference.
  ...(["acounts.read", "accounts.reads", "acocunts.read", "accounts.raed", "accounts.reed", "Accounts.Read"] as const).map(
    (a) => [a, "accounts.read", true] as const,
  ),
  ["accounts.read", "acounts.read", true],
  ["books:read", "books.read", true],
  // Distinct scopes of an ordinary service.
  ...(
    [
      ["books.read", "books.write"],
      ["books.read", "books.list"],
      ["config.get", "config.set"],
      ["user:get", "user:put"],
      ["api.v1", "api.v2"],
      ["tier1", "tier2"],
      ["admin", "admin"],
      ["rw", "ro"],
      ["abc", "abcd"],
      ["accounts.read", "acounts.write"],
    ] as const
  ).map(([a, b]) => [a, b, false] as const),
];

suite("isLikelyTypo()", () => {
  test("one edit apart is a likely typo; distinct scopes of an ordinary service are not", () => {
    for (const [a, b, typo] of pairs) assert.equal(isLikelyTypo(a, b), typo, `${a} ${typo ? "~" : "≁"} ${b}`);
  });
});
