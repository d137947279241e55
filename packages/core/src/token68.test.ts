import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { isToken68, parseAuthorization } from "./authorization-header.js";

const good = ["eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl", "abc+/==", "A-Z_a~z.0", "x"];
const bad = ["", "a b", "a\rb", "a\nb", "a\r\n", "a\r\nx-injected: 1", "tök", "t€k", "a,b", "a=b", "=", "a\tb", '"a"', "a;b"];

suite("isToken68()", () => {
  test("token68 values pass; empty, CR, LF, space, non-ASCII and other punctuation do not", () => {
    for (const v of good) assert.equal(isToken68(v), true, JSON.stringify(v));
    for (const v of bad) assert.equal(isToken68(v), false, JSON.stringify(v));
  });

  test("what is not a string is not a token68 (a token function may return anything)", () => {
    for (const v of [undefined, null, 42, {}, ["abc"]]) assert.equal(isToken68(v as never), false, String(v));
  });

  test("is the syntax the parser reads credentials with", () => {
    const parses = (v: string) => {
      try {
        return parseAuthorization(`Bearer ${v}`)?.value === v;
      } catch {
        return false;
      }
    };
    // Values without surrounding whitespace (which the header parser trims before reading).
    for (const v of [...good, ...bad.filter((b) => b.trim() === b && b !== "")]) {
      assert.equal(parses(v), isToken68(v), JSON.stringify(v));
    }
  });
});
