import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { errors } from "jose";
import type { AuthOutcome } from "./authenticator.js";
import { type JoseErrorCode, isTokenFault, joseCodeOf, verificationRejection } from "./jose-errors.js";
import { KeySourceUnavailableError, KeyTypeMismatch } from "./key-lookup-errors.js";

const payload = { sub: "alice", secret: "payload-text-never-passed-on" };
const outcomeOf = (error: unknown) => {
  const outcome: AuthOutcome = verificationRejection(error);
  assert.equal(outcome.ok, false);
  return outcome.ok ? undefined : [outcome.reason, outcome.detail];
};

suite("joseCodeOf()", () => {
  test("reads the code of each of jose's error classes, and no other code", () => {
    for (const type of Object.values(errors)) {
      assert.equal(joseCodeOf(new (type as new (message: string) => Error)("m")), type.code, type.name);
    }
    assert.equal(joseCodeOf({ code: "ERR_JWT_EXPIRED" }), "ERR_JWT_EXPIRED", "by the code property, whoever threw");
    for (const other of [{ code: "ECONNREFUSED" }, { code: 7 }, new TypeError("fetch failed"), null, undefined]) {
      assert.equal(joseCodeOf(other), undefined);
    }
  });

  test("a code jose does not define is not a JoseErrorCode (a typo fails to compile)", () => {
    // @ts-expect-error: not one of jose's codes
    const typo: JoseErrorCode = "ERR_JWT_EXPIRD";
    const real: JoseErrorCode = errors.JWTExpired.code as JoseErrorCode;
    assert.deepEqual([joseCodeOf({ code: typo }), real], [undefined, "ERR_JWT_EXPIRED"]);
  });
});

suite("verificationRejection()", () => {
  test("maps jose's errors by their code and claim", () => {
    const claim = (name: string, reason = "check_failed") => new errors.JWTClaimValidationFailed("m", payload, name, reason);
    const cases: [unknown, [string, string]][] = [
      [new errors.JWTExpired("m", payload, "exp"), ["TOKEN_EXPIRED", "exp"]],
      [new errors.JWTExpired("m", payload, "iat"), ["TOKEN_EXPIRED", "max_age"]],
      [claim("nbf"), ["TOKEN_NOT_YET_VALID", "nbf"]],
      [claim("iat"), ["TOKEN_NOT_YET_VALID", "iat"]],
      [claim("iat", "invalid"), ["INVALID_TOKEN", "claim_iat"]],
      [claim("aud"), ["INVALID_AUDIENCE", "aud"]],
      [claim("iss"), ["INVALID_ISSUER", "iss"]],
      [claim("client_id", "missing"), ["INVALID_TOKEN", "claim_client_id"]],
      [claim("https://example.com/roles", "missing"), ["INVALID_TOKEN", "claim"]],
      [new errors.JWKSNoMatchingKey(), ["INVALID_TOKEN", "unknown_key"]],
      [new errors.JOSEAlgNotAllowed("m"), ["INVALID_TOKEN", "algorithm"]],
      [new errors.JWSSignatureVerificationFailed(), ["INVALID_TOKEN", "signature"]],
      [new errors.JWSInvalid("m"), ["INVALID_TOKEN", "format"]],
      [new errors.JWTInvalid("m"), ["INVALID_TOKEN", "format"]],
      [new KeySourceUnavailableError("down"), ["KEYS_UNAVAILABLE", "key_source"]],
      [new KeyTypeMismatch("m"), ["INVALID_TOKEN", "key_type"]],
      [new TypeError("anything else"), ["INVALID_TOKEN", "format"]],
    ];
    for (const [error, expected] of cases) assert.deepEqual(outcomeOf(error), expected, String(error));
  });

  test("passes nothing of the error on: no payload, no message, no cause", () => {
    const outcome = verificationRejection(new errors.JWTExpired("the message", payload, "exp"));
    const text = JSON.stringify(outcome);
    assert.ok(!text.includes(payload.secret) && !text.includes("the message"), text);
    assert.equal((outcome as { cause?: unknown }).cause, undefined);
  });
});

test("isTokenFault(): the token's faults, not the key source's", () => {
  for (const fault of [
    new errors.JWKSNoMatchingKey(),
    new errors.JWKSMultipleMatchingKeys(),
    new errors.JOSEAlgNotAllowed("m"),
    new errors.JOSENotSupported("m"),
    new errors.JWSInvalid("m"),
    new errors.JWTInvalid("m"),
  ]) {
    assert.equal(isTokenFault(fault), true, fault.code);
  }
  for (const outage of [
    new errors.JWKSTimeout(),
    new errors.JWKSInvalid("m"),
    new TypeError("fetch failed"),
    new KeySourceUnavailableError("down"),
  ]) {
    assert.equal(isTokenFault(outage), false, String(outage));
  }
});
