import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/core";
import { type Authenticator, rejected } from "./authenticator.js";
import { createCredentialSource } from "./credential-source.js";

const make = (name: string, schemes: string[], headers?: string[]): Authenticator => ({
  name,
  schemes,
  headers,
  authenticate: async () => rejected("INVALID_TOKEN"),
});
const jwt = make("jwt", ["bearer"]);
const keys = make("keys", [], ["X-Api-Key"]);
const source = createCredentialSource([jwt, keys], { maxLength: 100 });

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return readAuthFailure(ConnectError.from(e))?.reason;
  }
  return assert.fail("expected a refusal");
}

test("reads one credential from Authorization or a named header, to its authenticator", () => {
  assert.equal(source.read(new Headers()), undefined);
  const b = source.read(new Headers({ authorization: "Bearer abc" }));
  assert.deepEqual([b?.credentials.value, b?.credentials.header, b?.authenticator?.name], ["abc", "authorization", "jwt"]);
  const k = source.read(new Headers({ "x-api-key": " k1 " }));
  assert.deepEqual([k?.credentials.value, k?.credentials.scheme, k?.credentials.header, k?.authenticator?.name], ["k1", "", "x-api-key", "keys"]);
  assert.equal(source.read(new Headers({ authorization: "Basic abc" }))?.authenticator, undefined);
});

test("two credentials are MULTIPLE_CREDENTIALS; a bad or long header value is MALFORMED_CREDENTIALS", () => {
  assert.equal(reasonOf(() => source.read(new Headers({ authorization: "Bearer a", "x-api-key": "k" }))), "MULTIPLE_CREDENTIALS");
  assert.equal(reasonOf(() => source.read(new Headers([["x-api-key", "a"], ["x-api-key", "b"]]))), "MULTIPLE_CREDENTIALS");
  assert.equal(reasonOf(() => source.read(new Headers({ "x-api-key": "a b" }))), "MALFORMED_CREDENTIALS");
  assert.equal(reasonOf(() => source.read(new Headers({ "x-api-key": "k".repeat(101) }))), "MALFORMED_CREDENTIALS");
});

test("a scheme or header taken twice, or Authorization as a credential header, throws TypeError", () => {
  assert.throws(() => createCredentialSource([jwt, make("b", ["Bearer"])], { maxLength: 100 }), /both take the "bearer" scheme/);
  assert.throws(() => createCredentialSource([keys, make("b", [], ["x-api-key"])], { maxLength: 100 }), /both take the "x-api-key" header/);
  assert.throws(() => createCredentialSource([make("b", [], ["Authorization"])], { maxLength: 100 }), TypeError);
  assert.throws(() => createCredentialSource([], { maxLength: 100 }), TypeError);
});

test("an authenticator's own extract() is one more place for a credential", () => {
  const cookie: Authenticator = {
    ...make("cookie", []),
    extract: (h) => /(?:^|;\s*)sid=([^;]+)/.exec(h.get("cookie") ?? "")?.[1],
  };
  const withCookie = createCredentialSource([jwt, cookie], { maxLength: 100 });
  const found = withCookie.read(new Headers({ cookie: "a=1; sid=xyz" }));
  assert.deepEqual([found?.credentials.value, found?.credentials.header, found?.authenticator?.name], ["xyz", undefined, "cookie"]);
  assert.equal(withCookie.read(new Headers({ cookie: "a=1" })), undefined);
  assert.equal(reasonOf(() => withCookie.read(new Headers({ cookie: "sid=xyz", authorization: "Bearer a" }))), "MULTIPLE_CREDENTIALS");
});
