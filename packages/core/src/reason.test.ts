import { test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { Reason, bearerErrorOf, codeOf, dpopErrorOf, hasChallenge, isReason, isTokenReason } from "./reason.js";

// The contract table (reason, code, challenge error) of packages/core/README.md, written out independently
// of the implementation.
// The third column is the challenge's RFC 6750 error (null: no challenge); the fourth, when given, the DPoP one.
const contract: [Reason, Code, string | undefined | null, string?][] = [
  ["MISSING_CREDENTIALS", Code.Unauthenticated, undefined],
  ["MALFORMED_CREDENTIALS", Code.Unauthenticated, "invalid_request"],
  ["MULTIPLE_CREDENTIALS", Code.Unauthenticated, "invalid_request"],
  ["INVALID_TOKEN", Code.Unauthenticated, "invalid_token"],
  ["TOKEN_EXPIRED", Code.Unauthenticated, "invalid_token"],
  ["TOKEN_NOT_YET_VALID", Code.Unauthenticated, "invalid_token"],
  ["INVALID_AUDIENCE", Code.Unauthenticated, "invalid_token"],
  ["INVALID_ISSUER", Code.Unauthenticated, "invalid_token"],
  ["INVALID_API_KEY", Code.Unauthenticated, null],
  ["INVALID_CLIENT_CERTIFICATE", Code.Unauthenticated, null],
  ["INSUFFICIENT_SCOPE", Code.PermissionDenied, "insufficient_scope"],
  ["CLAIMS_REJECTED", Code.PermissionDenied, "insufficient_scope"],
  ["KEYS_UNAVAILABLE", Code.Unavailable, null],
  ["INVALID_DPOP_PROOF", Code.Unauthenticated, undefined, "invalid_dpop_proof"],
  ["USE_DPOP_NONCE", Code.Unauthenticated, undefined, "use_dpop_nonce"],
  ["REVOCATION_UNAVAILABLE", Code.Unavailable, null],
  ["REPLAY_STORE_UNAVAILABLE", Code.Unavailable, null],
];

test("every reason maps to the contract's code and challenge", () => {
  assert.equal(Object.keys(Reason).length, contract.length);
  for (const [reason, code, error, dpopError] of contract) {
    assert.equal(codeOf(reason), code, reason);
    assert.equal(hasChallenge(reason), error !== null, reason);
    assert.equal(bearerErrorOf(reason), error ?? undefined, reason);
    assert.equal(dpopErrorOf(reason), dpopError ?? error ?? undefined, reason);
    assert.ok(isReason(reason));
  }
  assert.equal(isReason("toString"), false);
  assert.equal(isReason("NOPE"), false);
});

test("only token faults are token reasons (a client may refresh on them)", () => {
  const token = contract.filter(([, , e]) => e === "invalid_token").map(([r]) => r);
  for (const [reason] of contract) assert.equal(isTokenReason(reason), token.includes(reason), reason);
});
