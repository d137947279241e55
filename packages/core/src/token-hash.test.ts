import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { tokenHash } from "./token-hash.js";

test("tokenHash is the first 8 hex digits of the SHA-256, leading zeros kept", async () => {
  assert.equal(await tokenHash("abc"), "ba7816bf"); // FIPS 180-2 test vector
  for (const text of ["", "abc", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", ...Array.from({ length: 64 }, (_, i) => `t${i}`)]) {
    assert.equal(await tokenHash(text), createHash("sha256").update(text).digest("hex").slice(0, 8), text);
  }
});
