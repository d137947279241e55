import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { isLikelyTypo } from "./scope-typo.js";

suite("isLikelyTypo()", () => {
  test("one character dropped, added, replaced or swapped, or a case difference, is a likely typo", () => {
    for (const [a, b] of [
      ["acounts.read", "accounts.read"],
      ["accounts.read", "acounts.read"],
      ["accounts.reads", "accounts.read"],
      ["acocunts.read", "accounts.read"],
      ["accounts.raed", "accounts.read"],
      ["accounts.reed", "accounts.read"],
      ["Accounts.Read", "accounts.read"],
      ["books:read", "books.read"],
    ]) {
      assert.equal(isLikelyTypo(a!, b!), true, `${a} ~ ${b}`);
    }
  });

  test("distinct scopes of an ordinary service are not typos of each other", () => {
    for (const [a, b] of [
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
    ]) {
      assert.equal(isLikelyTypo(a!, b!), false, `${a} ≁ ${b}`);
    }
  });
});
