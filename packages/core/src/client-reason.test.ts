import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { ClientReason, clientRefusal } from "./client-reason.js";
import { createAuthError } from "./auth-error.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { Reason, isReason, isTokenReason } from "./reason.js";

suite("ClientReason", () => {
  test("the client's reasons, apart from the server's and never token reasons", () => {
    assert.deepEqual(Object.values(ClientReason), ["INSECURE_TRANSPORT", "TOKEN_UNAVAILABLE"]);
    for (const reason of Object.values(ClientReason)) {
      assert.equal(isReason(reason), false, reason);
      assert.equal(isTokenReason(reason), false, reason);
    }
  });
});

suite("clientRefusal()", () => {
  test("the contract's code for each client reason, its ErrorInfo, and no challenge", () => {
    const cases: [ClientReason, Code][] = [
      [ClientReason.InsecureTransport, Code.FailedPrecondition],
      [ClientReason.TokenUnavailable, Code.Unavailable],
    ];
    for (const [reason, code] of cases) {
      const e = clientRefusal(reason, "refused", { detail: "malformed_token" });
      assert.equal(e.code, code, reason);
      assert.equal(e.rawMessage, "refused");
      assert.deepEqual(
        e.findDetails(ErrorInfoSchema).map((i) => [i.reason, i.domain, i.metadata]),
        [[reason, "connectauth", { detail: "malformed_token" }]],
      );
      assert.deepEqual([...e.metadata], [], "no challenge, no other metadata");
    }
  });

  test("carries its ErrorInfo as createAuthError does (one builder)", () => {
    const server = createAuthError(Reason.KeysUnavailable, { message: "m", metadata: { a: "b" } });
    const client = clientRefusal(ClientReason.TokenUnavailable, "m", { a: "b" });
    assert.deepEqual(
      [client.code, client.details.length, client.findDetails(ErrorInfoSchema)[0]?.metadata],
      [server.code, server.details.length, server.findDetails(ErrorInfoSchema)[0]?.metadata],
    );
  });
});
