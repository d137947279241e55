import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { readAuthFailure } from "./auth-failure.js";
import { createAuthError } from "./auth-error.js";
import { ClientReason, clientRefusal } from "./client-reason.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { Reason, errorDomain } from "./reason.js";

/** A ConnectError with an ErrorInfo of `reason` in `domain`, as any peer may send it. */
const withInfo = (code: Code, reason: string, domain = errorDomain, metadata: Record<string, string> = {}) =>
  new ConnectError("refused", code, undefined, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain, metadata }) },
  ]);

suite("readAuthFailure()", () => {
  test("reads what createAuthError wrote, and ignores other errors", () => {
    const failure = readAuthFailure(createAuthError(Reason.TokenExpired, { realm: "r", metadata: { detail: "exp" } }));
    assert.equal(failure?.reason, "TOKEN_EXPIRED");
    assert.equal(failure?.code, Code.Unauthenticated);
    assert.equal(failure?.action, "sign_in");
    assert.deepEqual(failure?.challenge, { scheme: "Bearer", params: { realm: "r", error: "invalid_token" } });
    assert.deepEqual(failure?.metadata, { detail: "exp" });
    assert.deepEqual(failure?.requiredScopes, []);
    assert.equal(readAuthFailure(new ConnectError("x", Code.Internal)), undefined);
    assert.equal(readAuthFailure(new Error("x")), undefined);
    assert.equal(readAuthFailure("x"), undefined);
  });

  test("required scopes fall back to the challenge when ErrorInfo has none", () => {
    const e = new ConnectError(
      "denied",
      Code.PermissionDenied,
      {
        "www-authenticate": 'Bearer error="insufficient_scope", scope="a b"',
      },
      [{ desc: ErrorInfoSchema, value: { reason: "INSUFFICIENT_SCOPE", domain: "connectauth" } }],
    );
    assert.deepEqual(readAuthFailure(e)?.requiredScopes, ["a", "b"]);
  });

  test("reads the client's own refusals like the server's reasons", () => {
    assert.deepEqual(readAuthFailure(withInfo(Code.FailedPrecondition, "INSECURE_TRANSPORT", errorDomain, { cause: "x" })), {
      code: Code.FailedPrecondition,
      reason: "INSECURE_TRANSPORT",
      action: "fix_configuration",
      message: "refused",
      challenge: undefined,
      requiredScopes: [],
      metadata: { cause: "x" },
    });
    const unavailable = readAuthFailure(clientRefusal(ClientReason.TokenUnavailable, "no token", { detail: "malformed_token" }));
    assert.deepEqual(
      [unavailable?.reason, unavailable?.code, unavailable?.action, unavailable?.metadata],
      ["TOKEN_UNAVAILABLE", Code.Unavailable, "try_later", { detail: "malformed_token" }],
    );
    assert.equal(
      readAuthFailure(withInfo(Code.FailedPrecondition, "INSECURE_TRANSPORT", "example.com")),
      undefined,
      "another domain is not ours",
    );
    assert.equal(readAuthFailure(new Error("INSECURE_TRANSPORT")), undefined);
  });

  test("the action an app takes for each reason, as the server sends it", () => {
    // Every reason, written out as the client README's table says (independently of the implementation).
    const cases: [Reason, string][] = [
      [Reason.MissingCredentials, "sign_in"],
      [Reason.InvalidToken, "sign_in"],
      [Reason.TokenExpired, "sign_in"],
      [Reason.TokenNotYetValid, "sign_in"],
      [Reason.InvalidAudience, "sign_in"],
      [Reason.InvalidIssuer, "sign_in"],
      [Reason.InsufficientScope, "consent"],
      [Reason.ClaimsRejected, "not_allowed"],
      [Reason.KeysUnavailable, "try_later"],
      [Reason.MalformedCredentials, "fix_configuration"],
      [Reason.MultipleCredentials, "fix_configuration"],
      [Reason.InvalidApiKey, "fix_configuration"],
      [Reason.InvalidClientCertificate, "fix_configuration"],
      // A new proof alone would not pass: the key, its algorithm or the clock is wrong.
      [Reason.InvalidDpopProof, "fix_configuration"],
      [Reason.UseDpopNonce, "sign_in"],
      [Reason.RevocationUnavailable, "try_later"],
      [Reason.ReplayStoreUnavailable, "try_later"],
    ];
    assert.equal(cases.length, Object.keys(Reason).length, "every reason has a row");
    for (const [reason, action] of cases) {
      assert.equal(readAuthFailure(createAuthError(reason))?.action, action, reason);
    }
    assert.equal(readAuthFailure(clientRefusal(ClientReason.TokenUnavailable, "x"))?.action, "try_later");
    assert.equal(readAuthFailure(clientRefusal(ClientReason.InsecureTransport, "x"))?.action, "fix_configuration");
    const scope = readAuthFailure(createAuthError(Reason.InsufficientScope, { requiredScopes: ["admin"] }));
    assert.deepEqual(
      [scope?.code, scope?.requiredScopes, scope?.challenge?.params["error"]],
      [Code.PermissionDenied, ["admin"], "insufficient_scope"],
    );
  });

  test("a reason of a newer server is passed on, its action taken from its code", () => {
    const cases: [Code, string][] = [
      [Code.Unauthenticated, "sign_in"],
      [Code.PermissionDenied, "not_allowed"],
      [Code.Unavailable, "try_later"],
      [Code.FailedPrecondition, "fix_configuration"],
    ];
    for (const [code, action] of cases) {
      const read = readAuthFailure(withInfo(code, "TOKEN_REVOKED"));
      assert.deepEqual([read?.reason, read?.code, read?.action], ["TOKEN_REVOKED", code, action]);
    }
    // A reason that refines its code keeps its action whatever the code; any other follows the code.
    assert.equal(readAuthFailure(withInfo(Code.Unauthenticated, Reason.InvalidApiKey))?.action, "fix_configuration");
    assert.equal(readAuthFailure(withInfo(Code.Unavailable, Reason.InsufficientScope))?.action, "consent");
    assert.equal(readAuthFailure(withInfo(Code.PermissionDenied, Reason.MissingCredentials))?.action, "not_allowed");
    // Text that is no ErrorInfo reason, or another domain, is not ours.
    assert.equal(readAuthFailure(withInfo(Code.Unauthenticated, "token revoked")), undefined);
    assert.equal(readAuthFailure(withInfo(Code.Unauthenticated, "__proto__")), undefined);
    assert.equal(readAuthFailure(withInfo(Code.Unauthenticated, "TOKEN_REVOKED", "example.com")), undefined);
  });
});
