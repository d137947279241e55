// Candidate rules in the authorization policy: judged with the same checks as the rule, never enforced.
// The test services' descriptors (proto/test/v1): ShadowService carries candidates in its proto.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Reason } from "@connectauth/core";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import {
  BrokenCandidateService,
  BrokenCandidateServiceCheckRequestSchema,
  ShadowService,
  ShadowServiceTenantRequestSchema,
} from "./test-support/gen/test/v1/shadow_pb.js";
import { type CandidateVerdict, createAuthorization } from "./authorization.js";
import { deny, fault } from "./denial.js";
import type { AuthIdentity } from "./identity.js";

const shadow = ShadowService.method;
const services = [GreeterService, ShadowService];

function caller(scopes: string[], claims: Record<string, unknown> = {}): AuthIdentity {
  return { subject: "alice", scopes: new Set(scopes), claims, authenticator: "fixed" };
}

/** A verdict as a reason and detail, to compare. */
function words(v: CandidateVerdict | undefined) {
  return typeof v === "object" ? [v.reason, v.metadata?.["detail"]] : v;
}

describe("Authorization.judgeCandidate", () => {
  const authorization = createAuthorization({ services });

  test("the candidate's scopes and claims, with the caller the headers established; the enforced rule is unchanged", () => {
    const greetOnly = caller(["greet"]);
    assert.equal(authorization.authorize(shadow.greet, greetOnly), undefined, "the enforced rule admits her");
    const refused = authorization.judgeCandidate(shadow.greet, { denial: undefined, identity: greetOnly });
    assert.deepEqual(words(refused), [Reason.InsufficientScope, undefined]);
    assert.equal(typeof refused === "object" && refused.metadata?.["missing_scopes"], "greet.v2");
    assert.equal(
      authorization.judgeCandidate(shadow.greet, { denial: undefined, identity: caller(["greet", "greet.v2"]) }),
      "allow",
    );
    assert.deepEqual(words(authorization.judgeCandidate(shadow.status, { denial: undefined, identity: greetOnly })), [
      Reason.ClaimsRejected,
      "claim",
    ]);
    assert.equal(
      authorization.judgeCandidate(shadow.status, { denial: undefined, identity: caller(["greet"], { org: "acme" }) }),
      "allow",
    );
  });

  test("no candidate: undefined, whatever the call", () => {
    assert.equal(authorization.judgeCandidate(shadow.open, { denial: undefined, identity: caller([]) }), undefined);
    assert.equal(
      authorization.judgeCandidate(GreeterService.method.greet, { denial: undefined, identity: caller([]) }),
      undefined,
    );
  });

  test("a candidate that reads the request waits for it, then judges each message; a run-time failure would deny", () => {
    const t1 = caller(["greet"], { tenant: "t1" });
    assert.equal(authorization.candidateReadsRequest(shadow.tenant), true);
    assert.equal(authorization.readsRequest(shadow.tenant), false, "the enforced rule reads nothing of it");
    assert.equal(authorization.judgeCandidate(shadow.tenant, { denial: undefined, identity: t1 }), "request");
    const request = (tenant: string) => create(ShadowServiceTenantRequestSchema, { tenant });
    assert.equal(authorization.judgeCandidateRequest(shadow.tenant, t1, request("t1")), undefined);
    assert.deepEqual(words(authorization.judgeCandidateRequest(shadow.tenant, t1, request("t2"))), [
      Reason.ClaimsRejected,
      "condition",
    ]);
    assert.deepEqual(words(authorization.judgeCandidateRequest(shadow.tenant, caller(["greet"]), request("t1"))), [
      Reason.ClaimsRejected,
      "condition_error",
    ]);
    assert.equal(authorization.authorizeRequest(shadow.tenant, t1, request("t2")), undefined, "never enforced");
    assert.deepEqual(
      words(authorization.judgeCandidate(shadow.tenant, { denial: undefined, identity: caller([]) })),
      [Reason.InsufficientScope, undefined],
      "its scopes are judged before the request",
    );
  });

  test("callers nobody authenticated: anonymous calls are the candidate's to judge, other failures come before any rule", () => {
    const missing = deny(Reason.MissingCredentials);
    assert.deepEqual(
      words(authorization.judgeCandidate(shadow.ping, { denial: undefined })),
      [Reason.MissingCredentials, undefined],
      "an anonymous call to a public method: a candidate that is not public demands a credential",
    );
    const publicCandidate = createAuthorization({
      rules: { "test.v1.GreeterService/Greet": { allScopes: ["greet"], candidate: { public: true } } },
      services,
    });
    const greet = GreeterService.method.greet;
    assert.equal(publicCandidate.judgeCandidate(greet, { denial: missing }), "allow", "a public candidate admits no credential");
    const unsupported = deny(Reason.MissingCredentials, { metadata: { detail: "unsupported_scheme" } });
    assert.equal(publicCandidate.judgeCandidate(greet, { denial: unsupported }), unsupported, "a credential nobody takes");
    const invalid = deny(Reason.InvalidToken, { metadata: { authenticator: "fixed", detail: "unknown" } });
    assert.equal(publicCandidate.judgeCandidate(greet, { denial: invalid, authenticator: "fixed" }), invalid);
    const expired = deny(Reason.TokenExpired);
    assert.equal(
      authorization.judgeCandidate(shadow.greet, { denial: expired, identity: caller(["greet", "greet.v2"]) }),
      expired,
      "a refusal of the credential itself stays the candidate's",
    );
    const broken = fault("connectauth: the request gate ran twice for one call");
    assert.equal(authorization.judgeCandidate(shadow.greet, { denial: broken }), broken);
    assert.equal(publicCandidate.judgeCandidate(greet, { denial: undefined, identity: caller([]) }), "allow");
  });

  test("the candidate is judged even when the enforced rule refused the caller", () => {
    const none = caller([]);
    const refused = authorization.authorize(shadow.greet, none);
    assert.equal(refused?.reason, Reason.InsufficientScope);
    const permissive = createAuthorization({
      rules: { "test.v1.ShadowService/Greet": { allScopes: ["greet"], candidate: {} } },
      services,
    });
    assert.equal(permissive.judgeCandidate(shadow.greet, { denial: refused, identity: none }), "allow", "a looser candidate");
  });
});

describe("candidate conditions at setup", () => {
  test("one that does not compile throws at setup, naming the candidate, as the rule's own does", () => {
    assert.throws(
      () =>
        createAuthorization({
          rules: { "test.v1.GreeterService/Greet": { candidate: { condition: "nope ==" } } },
          services,
        }),
      (e: Error) => e instanceof TypeError && /the candidate of "test\.v1\.GreeterService\/Greet"/.test(e.message),
    );
    assert.throws(
      () =>
        createAuthorization({
          rules: { "test.v1.GreeterService/Greet": { candidate: { condition: "request.nope == subject" } } },
          services,
        }),
      (e: Error) =>
        e instanceof TypeError && /the candidate of test\.v1\.GreeterService\/Greet.*has no field "nope"/.test(e.message),
    );
  });

  test("of a service not listed, it is a candidate that would deny (a fault), never a failure of the call", () => {
    assert.throws(
      () => createAuthorization({ services: [BrokenCandidateService] }),
      /the candidate of .*BrokenCandidateService\/Check/,
    );
    const authorization = createAuthorization({ services });
    const check = BrokenCandidateService.method.check;
    const identity = caller([]);
    assert.equal(authorization.authorize(check, identity), undefined, "the enforced rule ({}) admits her");
    assert.equal(authorization.readsRequest(check), false);
    assert.equal(authorization.candidateReadsRequest(check), true, "judged with the request, where it refuses");
    assert.equal(authorization.judgeCandidate(check, { denial: undefined, identity }), "request");
    const judged = authorization.judgeCandidateRequest(check, identity, create(BrokenCandidateServiceCheckRequestSchema));
    assert.equal(judged?.reason, undefined, "a fault");
    assert.match(
      judged?.message ?? "",
      /the auth condition of the candidate of test\.v1\.BrokenCandidateService\/Check does not compile/,
    );
  });
});
