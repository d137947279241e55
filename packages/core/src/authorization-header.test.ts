import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { assertToken68, parseAuthorization, splitAuthorization } from "./authorization-header.js";
import { readAuthFailure } from "./auth-error.js";

const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

function rejects(header: string, reason: string) {
  try {
    parseAuthorization(header);
  } catch (e) {
    assert.ok(e instanceof ConnectError);
    assert.equal(e.code, Code.Unauthenticated);
    assert.equal(readAuthFailure(e)?.reason, reason, header);
    assert.ok(!e.message.includes(token), "the error must not echo the credential");
    return;
  }
  assert.fail(`expected ${reason} for ${JSON.stringify(header)}`);
}

test("reads one bearer credential, scheme case-insensitive", () => {
  assert.deepEqual(parseAuthorization(`Bearer ${token}`), { scheme: "bearer", value: token });
  assert.deepEqual(parseAuthorization(`bEaReR   ${token}`), { scheme: "bearer", value: token });
  assert.deepEqual(parseAuthorization("Bearer abc+/=="), { scheme: "bearer", value: "abc+/==" });
});

test("absent or blank is no credential", () => {
  assert.equal(parseAuthorization(null), undefined);
  assert.equal(parseAuthorization(undefined), undefined);
  assert.equal(parseAuthorization("   "), undefined);
});

test("two credentials (joined header values) are MULTIPLE_CREDENTIALS", () => {
  rejects(`Bearer ${token}, Bearer ${token}`, "MULTIPLE_CREDENTIALS");
  rejects(`Bearer ${token},Basic dXNlcjpwYXNz`, "MULTIPLE_CREDENTIALS");
});

test("anything else that does not parse is MALFORMED_CREDENTIALS, without echoing it", () => {
  rejects(token, "MALFORMED_CREDENTIALS"); // a bare token, no scheme
  rejects("Bearer", "MALFORMED_CREDENTIALS");
  rejects(`Bearer ${token} extra`, "MALFORMED_CREDENTIALS");
  rejects(`Bearer "${token}"`, "MALFORMED_CREDENTIALS");
  rejects(`Bearer ${token}=x`, "MALFORMED_CREDENTIALS");
  rejects(`Bea(rer ${token}`, "MALFORMED_CREDENTIALS");
  rejects(`Bearer ${token}\u00e9`, "MALFORMED_CREDENTIALS");
});

test("a header over the size cap is refused before it is read", () => {
  rejects(`Bearer ${"a".repeat(9000)}`, "MALFORMED_CREDENTIALS");
  assert.deepEqual(parseAuthorization("Bearer abc", { maxLength: 10 }), { scheme: "bearer", value: "abc" });
  assert.throws(() => parseAuthorization("Bearer abcd", { maxLength: 10 }));
});

test("splitAuthorization leaves the token68 scan to assertToken68; together they are parseAuthorization", () => {
  const reasonOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return readAuthFailure(e)?.reason;
    }
    return "none";
  };
  assert.deepEqual(splitAuthorization("Bearer a b"), { scheme: "bearer", value: "a b" });
  assert.deepEqual(splitAuthorization("Bearer a, Bearer b"), { scheme: "bearer", value: "a, Bearer b" });
  assert.equal(reasonOf(() => assertToken68("a, Bearer b")), "MULTIPLE_CREDENTIALS");
  assert.equal(reasonOf(() => assertToken68("a b")), "MALFORMED_CREDENTIALS");
  assert.equal(reasonOf(() => assertToken68("eyJhbGciOi.e30.sig=")), "none");
  for (const header of ["Bearer a b", "Bearer a, Bearer b", "Bearer abc", "Basic", "x"]) {
    assert.equal(reasonOf(() => parseAuthorization(header)), reasonOf(() => assertToken68(splitAuthorization(header)?.value ?? "")), header);
  }
});
