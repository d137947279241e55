import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { createAuthError, readAuthFailure } from "./auth-error.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { Reason } from "./reason.js";

test("an auth error carries code, ErrorInfo and challenge", () => {
  const e = createAuthError(Reason.InsufficientScope, { realm: "api", requiredScopes: ["admin", "greet"] });
  assert.equal(e.code, Code.PermissionDenied);
  const [info] = e.findDetails(ErrorInfoSchema);
  assert.equal(info?.reason, "INSUFFICIENT_SCOPE");
  assert.equal(info?.domain, "connectauth");
  assert.deepEqual(info?.metadata, { required_scopes: "admin greet" });
  assert.equal(
    e.metadata.get("www-authenticate"),
    'Bearer realm="api", error="insufficient_scope", scope="admin greet"',
  );
});

test("missing credentials challenge has no error; API keys and outages have none at all", () => {
  assert.equal(createAuthError(Reason.MissingCredentials, { realm: "r" }).metadata.get("www-authenticate"), 'Bearer realm="r"');
  assert.equal(createAuthError(Reason.InvalidApiKey).metadata.get("www-authenticate"), null);
  const outage = createAuthError(Reason.KeysUnavailable);
  assert.equal(outage.code, Code.Unavailable);
  assert.equal(outage.metadata.get("www-authenticate"), null);
});

test("readAuthFailure reads what createAuthError wrote, and ignores other errors", () => {
  const failure = readAuthFailure(createAuthError(Reason.TokenExpired, { realm: "r", metadata: { detail: "exp" } }));
  assert.equal(failure?.reason, "TOKEN_EXPIRED");
  assert.equal(failure?.code, Code.Unauthenticated);
  assert.deepEqual(failure?.challenge, { scheme: "Bearer", params: { realm: "r", error: "invalid_token" } });
  assert.deepEqual(failure?.metadata, { detail: "exp" });
  assert.deepEqual(failure?.requiredScopes, []);
  assert.equal(readAuthFailure(new ConnectError("x", Code.Internal)), undefined);
  assert.equal(readAuthFailure(new Error("x")), undefined);
  assert.equal(readAuthFailure("x"), undefined);
});

test("required scopes fall back to the challenge when ErrorInfo has none", () => {
  const e = new ConnectError("denied", Code.PermissionDenied, {
    "www-authenticate": 'Bearer error="insufficient_scope", scope="a b"',
  }, [{ desc: ErrorInfoSchema, value: { reason: "INSUFFICIENT_SCOPE", domain: "connectauth" } }]);
  assert.deepEqual(readAuthFailure(e)?.requiredScopes, ["a", "b"]);
});
