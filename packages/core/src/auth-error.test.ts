import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { createAuthError, readAuthFailure, readAuthFailureWith } from "./auth-error.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { Reason, isReason } from "./reason.js";

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

test("readAuthFailureWith reads reasons readAuthFailure does not know, only those it accepts", () => {
  const withInfo = (reason: string, domain = "connectauth") =>
    new ConnectError("refused", Code.FailedPrecondition, undefined, [
      { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain, metadata: { cause: "x" } }) },
    ]);
  const isMine = (r: string): r is Reason | "INSECURE_TRANSPORT" => isReason(r) || r === "INSECURE_TRANSPORT";
  const own = withInfo("INSECURE_TRANSPORT");
  assert.equal(readAuthFailure(own), undefined);
  assert.deepEqual(readAuthFailureWith(own, isMine), {
    code: Code.FailedPrecondition,
    reason: "INSECURE_TRANSPORT",
    message: "refused",
    challenge: undefined,
    requiredScopes: [],
    metadata: { cause: "x" },
  });
  assert.equal(readAuthFailureWith(withInfo("SOMETHING_ELSE"), isMine), undefined);
  assert.equal(readAuthFailureWith(withInfo("INSECURE_TRANSPORT", "example.com"), isMine), undefined);
  assert.equal(readAuthFailureWith(new Error("INSECURE_TRANSPORT"), isMine), undefined);
  const server = createAuthError(Reason.TokenExpired, { realm: "api" });
  assert.deepEqual(readAuthFailureWith(server, isMine), readAuthFailure(server));
});
