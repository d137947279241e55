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

test("DPoP challenges: the proof reasons answer with DPoP alone, the others with the schemes asked for", () => {
  const algs = ["ES256", "EdDSA"];
  const proof = createAuthError(Reason.InvalidDpopProof, { realm: "r", schemes: ["Bearer"], dpopAlgorithms: algs });
  assert.equal(proof.code, Code.Unauthenticated);
  assert.equal(proof.metadata.get("www-authenticate"), 'DPoP realm="r", error="invalid_dpop_proof", algs="ES256 EdDSA"');
  const nonce = createAuthError(Reason.UseDpopNonce, { dpopAlgorithms: algs, dpopNonce: "n-1" });
  assert.equal(nonce.metadata.get("www-authenticate"), 'DPoP error="use_dpop_nonce", algs="ES256 EdDSA"');
  assert.equal(nonce.metadata.get("dpop-nonce"), "n-1");
  const both = createAuthError(Reason.MissingCredentials, { realm: "r", schemes: ["Bearer", "DPoP"], dpopAlgorithms: algs });
  assert.equal(both.metadata.get("www-authenticate"), 'Bearer realm="r", DPoP realm="r", algs="ES256 EdDSA"');
  const bound = createAuthError(Reason.InvalidToken, { schemes: ["DPoP"], dpopAlgorithms: algs });
  assert.equal(bound.metadata.get("www-authenticate"), 'DPoP error="invalid_token", algs="ES256 EdDSA"');
  assert.equal(bound.metadata.get("dpop-nonce"), null);
  for (const reason of [Reason.RevocationUnavailable, Reason.ReplayStoreUnavailable]) {
    const outage = createAuthError(reason, { schemes: ["DPoP"], dpopAlgorithms: algs });
    assert.equal(outage.code, Code.Unavailable);
    assert.equal(outage.metadata.get("www-authenticate"), null);
  }
});
