import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createDevIssuer } from "@connectauth/node/dev";
import { tokenFacts } from "./token-facts.js";

test("decodes header and claims against the given clock, without verifying", async () => {
  const now = 1_800_000_000_000;
  const issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter", now: () => now });
  const token = await issuer.mint({ subject: "alice", scopes: ["greet", "admin"], ttlSeconds: 300, notBeforeSeconds: 60 });
  const facts = tokenFacts(token, now);
  assert.equal(facts.hash, createHash("sha256").update(token).digest("hex").slice(0, 8));
  assert.deepEqual(
    [facts.isJwt, facts.alg, facts.kid, facts.typ, facts.iss, facts.sub, facts.aud, facts.scopes],
    [true, "ES256", issuer.keyId, "at+jwt", "https://issuer.test", "alice", ["greeter"], ["greet", "admin"]],
  );
  assert.equal(facts.expiresInSeconds, 300);
  assert.equal(facts.notBeforeInSeconds, 60);
  assert.equal(tokenFacts(token, now + 400_000).expiresInSeconds, -100);
});

test("names the usual format mistakes without echoing the token", () => {
  const bearer = tokenFacts("Bearer abc.def.ghi", 0);
  assert.equal(bearer.isJwt, false);
  assert.match(bearer.formatProblem!, /starts with "Bearer "/);
  assert.match(tokenFacts("abc\n", 0).formatProblem!, /whitespace/);
  const opaque = tokenFacts("opaque-secret-value", 0);
  assert.match(opaque.formatProblem!, /not a JWT/);
  assert.ok(!JSON.stringify(opaque).includes("opaque-secret-value"));
});
