import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { createAuthError } from "@connectauth/core";
import { callOutcome } from "./call-outcome.js";
import { tokenFacts } from "./token-facts.js";

test("callOutcome(): an OK call", () => {
  assert.deepEqual(callOutcome(undefined, null), {
    code: 0,
    codeName: "OK",
    reason: undefined,
    message: undefined,
    challenge: undefined,
    metadata: {},
    requiredScopes: [],
    grantedScopes: [],
    missingScopes: [],
  });
});

test("callOutcome(): a connectauth failure, the required scopes set against the token's", () => {
  // An unsigned token with two scopes: its facts are decoded, not verified.
  const claims = Buffer.from(JSON.stringify({ scope: "greet read" })).toString("base64url");
  const facts = tokenFacts(`eyJhbGciOiJFUzI1NiJ9.${claims}.c2ln`, 0);
  const error = createAuthError("INSUFFICIENT_SCOPE", {
    realm: "greeter",
    requiredScopes: ["admin", "greet"],
    metadata: { authenticator: "jwt" },
  });
  const call = callOutcome(error, facts);
  assert.equal(call.code, Code.PermissionDenied);
  assert.equal(call.codeName, "PermissionDenied");
  assert.equal(call.reason, "INSUFFICIENT_SCOPE");
  assert.equal(call.challenge, 'Bearer realm="greeter", error="insufficient_scope", scope="admin greet"');
  assert.equal(call.metadata["authenticator"], "jwt");
  assert.deepEqual(
    [call.requiredScopes, call.grantedScopes, call.missingScopes],
    [["admin", "greet"], ["greet", "read"], ["admin"]],
  );
});

test("callOutcome(): another error keeps its code and message, without a reason", () => {
  const call = callOutcome(new ConnectError("no such method", Code.Unimplemented), null);
  assert.deepEqual(
    [call.code, call.codeName, call.reason, call.message],
    [Code.Unimplemented, "Unimplemented", undefined, "no such method"],
  );
});
