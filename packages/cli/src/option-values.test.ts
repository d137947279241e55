import { test } from "node:test";
import assert from "node:assert/strict";
import { flag, wholeNumberOf } from "./option-values.js";

test("wholeNumberOf: decimal whole numbers within the bounds, nothing else", () => {
  assert.equal(wholeNumberOf("0", 0, 65535), 0);
  assert.equal(wholeNumberOf("65535", 0, 65535), 65535);
  assert.equal(wholeNumberOf("-60", -Number.MAX_SAFE_INTEGER), -60);
  for (const text of ["65536", "-1", "-0", "1e3", "0x10", "1.0", " 1", "", "abc"]) {
    assert.equal(wholeNumberOf(text, 0, 65535), undefined, text);
  }
  assert.equal(wholeNumberOf("0", 1), undefined, "below min");
  assert.equal(wholeNumberOf("9007199254740993", 0), undefined, "beyond MAX_SAFE_INTEGER");
});

test("flag: a boolean option, false unless given", () => {
  assert.deepEqual(flag, { type: "boolean", default: false });
});
