import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseAuthorization, readAuthorization } from "./authorization-header.js";
import { readAuthFailure } from "./auth-failure.js";

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

test("readAuthorization returns what parseAuthorization throws, as a value", () => {
  assert.deepEqual(readAuthorization("Bearer a, Bearer b"), {
    reason: "MULTIPLE_CREDENTIALS",
    message: "more than one authorization credential was sent",
  });
  assert.equal((readAuthorization("Bearer a b") as { reason: string }).reason, "MALFORMED_CREDENTIALS");
  assert.equal((readAuthorization("Bearer abcd", { maxLength: 3 }) as { reason: string }).reason, "MALFORMED_CREDENTIALS");
  assert.deepEqual(readAuthorization(`Bearer ${token}`), { scheme: "bearer", value: token });
  assert.equal(readAuthorization(undefined), undefined);
  assert.equal(readAuthorization("  "), undefined);
  for (const header of ["Bearer a b", "Bearer a, Bearer b", "Bearer abc", "Basic", "x"]) {
    const read = readAuthorization(header);
    let thrown: string | undefined;
    try {
      parseAuthorization(header);
    } catch (e) {
      thrown = readAuthFailure(e)?.reason;
    }
    assert.equal(thrown, read !== undefined && "reason" in read ? read.reason : undefined, header);
  }
});
