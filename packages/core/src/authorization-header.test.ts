import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { credentialFault, parseAuthorization, readAuthorization, splitAuthorization } from "./authorization-header.js";
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

test("every spelling of a scheme is lowercased, the usual two included", () => {
  for (const [scheme, lower] of [
    ["Bearer", "bearer"],
    ["bearer", "bearer"],
    ["BEARER", "bearer"],
    ["DPoP", "dpop"],
    ["dpop", "dpop"],
    ["DPOP", "dpop"],
    ["Basic", "basic"],
  ]) {
    assert.deepEqual(parseAuthorization(`${scheme} ${token}`), { scheme: lower, value: token }, scheme);
  }
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

test("splitAuthorization checks all but the credential's syntax, which credentialFault checks", () => {
  assert.deepEqual(splitAuthorization("Bearer a b", 100), { scheme: "bearer", value: "a b" });
  assert.deepEqual(splitAuthorization("Bearer a, Bearer b", 100), { scheme: "bearer", value: "a, Bearer b" });
  assert.deepEqual(splitAuthorization(`  Bearer   ${token} `, 100), { scheme: "bearer", value: token });
  assert.equal(splitAuthorization(null, 100), undefined);
  assert.equal(splitAuthorization(" ", 100), undefined);
  for (const header of ["Bearer", "Bea(rer abc", "Bearer abcd"]) {
    assert.equal((splitAuthorization(header, 10) as { reason: string }).reason, "MALFORMED_CREDENTIALS", header);
  }
  assert.equal(credentialFault(token), undefined);
  assert.equal(credentialFault("a, Bearer b")?.reason, "MULTIPLE_CREDENTIALS");
  for (const value of ["a b", '"a"', "a=b", "\u00e9", ""]) {
    assert.equal(credentialFault(value)?.reason, "MALFORMED_CREDENTIALS", JSON.stringify(value));
  }
  // The two together are readAuthorization.
  for (const header of ["Bearer a b", "Bearer a, Bearer b", `Bearer ${token}`, "Basic", "x y z"]) {
    const split = splitAuthorization(header, 8192);
    const both = split === undefined || "reason" in split ? split : (credentialFault(split.value) ?? split);
    assert.deepEqual(both, readAuthorization(header), header);
  }
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
