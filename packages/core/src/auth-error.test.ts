import { test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { createAuthError } from "./auth-error.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { Reason } from "./reason.js";

test("an auth error carries code, ErrorInfo and challenge", () => {
  const e = createAuthError(Reason.InsufficientScope, { realm: "api", requiredScopes: ["admin", "greet"] });
  assert.equal(e.code, Code.PermissionDenied);
  const [info] = e.findDetails(ErrorInfoSchema);
  assert.equal(info?.reason, "INSUFFICIENT_SCOPE");
  assert.equal(info?.domain, "connectauth");
  assert.deepEqual(info?.metadata, { required_scopes: "admin greet" });
  assert.equal(e.metadata.get("www-authenticate"), 'Bearer realm="api", error="insufficient_scope", scope="admin greet"');
});

test("missing credentials challenge has no error; API keys and outages have none at all", () => {
  assert.equal(createAuthError(Reason.MissingCredentials, { realm: "r" }).metadata.get("www-authenticate"), 'Bearer realm="r"');
  assert.equal(createAuthError(Reason.InvalidApiKey).metadata.get("www-authenticate"), null);
  const outage = createAuthError(Reason.KeysUnavailable);
  assert.equal(outage.code, Code.Unavailable);
  assert.equal(outage.metadata.get("www-authenticate"), null);
});
