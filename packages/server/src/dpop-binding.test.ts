import { test } from "node:test";
import assert from "node:assert/strict";
import { createContextValues } from "@connectrpc/connect";
import { type AuthCall, type AuthOutcome, accepted, rejected } from "./authenticator.js";
import { type DpopBinding, type DpopPresentation, createDpopBinding } from "./dpop-binding.js";
import { headerValueCountKey } from "./protocol.js";
import { type ProofKey, proofKey, signProof } from "./test-support/dpop.js";

const what = "createJwtAuthenticator";
const now = Date.UTC(2026, 0, 1);
const nowS = now / 1000;
const clock = { what, now: () => now };
const url = "https://api.test/example.v1.GreeterService/Greet";
const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
const secret = "a-nonce-secret-of-at-least-32-bytes!";

const key = await proofKey();
const otherKey = await proofKey();

let jtis = 0;
/** A DPoP proof (RFC 9449 §4.2) for `url` by POST, for `token`, unless the claims say otherwise. */
function proof(claims: Record<string, unknown> = {}, by: ProofKey = key): Promise<string> {
  return signProof(by, token, { htm: "POST", htu: url, iat: nowS, jti: `jti-${++jtis}`, ...claims });
}

function call(headers: [string, string][], count?: number): AuthCall {
  const values = createContextValues();
  if (count !== undefined) values.set(headerValueCountKey, (name: string) => (name === "dpop" ? count : 1));
  return { values, requestHeader: new Headers(headers), requestMethod: "POST", url };
}

const unbound = Symbol("no cnf claim");
/** The verified token's outcome, with this `cnf` claim (bound to the proof's key by default), or none. */
function verified(cnf: unknown = { jkt: key.jkt }): AuthOutcome {
  const claims =
    cnf === unbound ? { iss: "https://issuer.test", sub: "alice" } : { iss: "https://issuer.test", sub: "alice", cnf };
  return accepted({ subject: "alice", scopes: new Set(["greet"]), claims, authenticator: "jwt" });
}

function binding(option: Parameters<typeof createDpopBinding>[0]): DpopBinding {
  const b = createDpopBinding(option, clock);
  assert.ok(b !== undefined);
  return b;
}

/** Steps 1 and 2 of a DPoP call with these request headers and this verified token. */
async function dpopCall(b: DpopBinding, headers: [string, string][], outcome = verified(), count?: number) {
  const presented = b.present({ scheme: "dpop", value: token }, call(headers, count));
  if ("ok" in presented) return presented;
  return b.bind(outcome, presented);
}

function refusal(outcome: AuthOutcome | DpopPresentation) {
  assert.ok("ok" in outcome && !outcome.ok, `expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const defaultAlgorithms = ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"];

test("off without the option; the mode and what the authenticator asks for", () => {
  assert.equal(createDpopBinding(undefined, clock), undefined);
  assert.deepEqual(binding("required").challenge, { schemes: ["DPoP"], dpopAlgorithms: defaultAlgorithms });
  assert.deepEqual(binding("allowed").challenge, { schemes: ["Bearer", "DPoP"], dpopAlgorithms: defaultAlgorithms });
  assert.deepEqual(binding({ mode: "required", algorithms: ["EdDSA", "ES256"] }).challenge, {
    schemes: ["DPoP"],
    dpopAlgorithms: ["EdDSA", "ES256"],
  });
  assert.equal(binding({ mode: "allowed" }).mode, "allowed");
});

test("a bad option is a TypeError at construction, named for the authenticator's dpop option", () => {
  const bad: [unknown, RegExp][] = [
    ["sometimes", /^TypeError: createJwtAuthenticator: dpop must be "required", "allowed"/],
    [{}, /createJwtAuthenticator: dpop must be/],
    [null, /createJwtAuthenticator: dpop must be/],
    [{ mode: "on" }, /createJwtAuthenticator: dpop must be/],
    [{ mode: "required", algorithms: ["HS256"] }, /^TypeError: createJwtAuthenticator: dpop: algorithms/],
    [{ mode: "required", algorithms: ["none"] }, /createJwtAuthenticator: dpop: algorithms/],
    [{ mode: "required", algorithms: [] }, /createJwtAuthenticator: dpop: algorithms/],
    [{ mode: "required", iatWindowSeconds: -1 }, /createJwtAuthenticator: dpop: iatWindowSeconds/],
    [{ mode: "required", replayStore: {} }, /createJwtAuthenticator: dpop: replayStore/],
    [{ mode: "required", publicOrigin: "https://api.test/path" }, /createJwtAuthenticator: dpop: publicOrigin/],
    [{ mode: "required", nonce: "secret" }, /createJwtAuthenticator: dpop.nonce must be/],
    [{ mode: "required", nonce: { secret: "short" } }, /^TypeError: createJwtAuthenticator: dpop.nonce: secret/],
    [{ mode: "required", nonce: { secret, rotationSeconds: 0 } }, /createJwtAuthenticator: dpop.nonce: rotationSeconds/],
  ];
  for (const [option, message] of bad) {
    assert.throws(() => createDpopBinding(option as never, clock), message, JSON.stringify(option));
  }
});

test("a bearer token: refused before verifying where DPoP is required, passed on where allowed", async () => {
  const required = refusal(binding("required").present({ scheme: "bearer", value: token }, call([])));
  assert.deepEqual(
    [required.reason, required.detail, required.challenge],
    ["INVALID_TOKEN", "dpop_required", { schemes: ["DPoP"], dpopAlgorithms: defaultAlgorithms }],
  );
  const allowed = binding("allowed");
  const presented = allowed.present({ scheme: "bearer", value: token }, call([]));
  assert.deepEqual(presented, { scheme: "bearer" });
  if ("ok" in presented) return;
  // An unbound token, and any rejection, stay as they are (a Bearer challenge).
  const unboundToken = verified(unbound);
  assert.equal(await allowed.bind(unboundToken, presented), unboundToken);
  const expired = rejected("TOKEN_EXPIRED", { detail: "exp" });
  assert.equal(await allowed.bind(expired, presented), expired);
  // A token bound to a key is refused as a bearer token (RFC 9449 §7.1), whatever its cnf.jkt holds.
  for (const cnf of [{ jkt: key.jkt }, { jkt: 42 }, { jkt: null }]) {
    const bound = refusal(await allowed.bind(verified(cnf), presented));
    assert.deepEqual(
      [bound.reason, bound.detail, bound.challenge?.schemes],
      ["INVALID_TOKEN", "dpop_bound", ["DPoP"]],
      JSON.stringify(cnf),
    );
  }
});

test("a DPoP call needs exactly one DPoP header: none is missing, two are multiple (on the wire or joined)", async () => {
  const b = binding("required");
  const good = await proof();
  for (const headers of [[], [["dpop", ""]], [["dpop", "  "]]] as [string, string][][]) {
    const missing = refusal(await dpopCall(b, headers));
    assert.deepEqual([missing.reason, missing.detail], ["INVALID_DPOP_PROOF", "missing"], JSON.stringify(headers));
    assert.deepEqual(missing.challenge, { schemes: ["DPoP"], dpopAlgorithms: defaultAlgorithms });
  }
  // Without the call at all (an authenticator called by hand), there is no proof.
  assert.equal(refusal(b.present({ scheme: "dpop", value: token }, undefined)).detail, "missing");
  const joined = refusal(await dpopCall(b, [["dpop", `${good}, ${await proof()}`]]));
  assert.deepEqual([joined.reason, joined.detail], ["INVALID_DPOP_PROOF", "multiple"]);
  const counted = refusal(await dpopCall(b, [["dpop", good]], verified(), 2));
  assert.equal(counted.detail, "multiple");
  // Counted once: the control.
  assert.ok((await dpopCall(b, [["dpop", good]], verified(), 1)).ok);
});

test("a DPoP call: the token's rejection answers DPoP; a valid proof of the token's key confirms the identity", async () => {
  const b = binding("allowed");
  const expired = refusal(await dpopCall(b, [["dpop", await proof()]], rejected("TOKEN_EXPIRED", { detail: "exp" })));
  assert.deepEqual(
    [expired.reason, expired.detail, expired.challenge],
    ["TOKEN_EXPIRED", "exp", { schemes: ["DPoP"], dpopAlgorithms: defaultAlgorithms }],
  );
  const ok = await dpopCall(b, [["dpop", await proof()]]);
  assert.ok(ok.ok);
  assert.deepEqual(ok.identity.confirmation, { jkt: key.jkt });
  assert.equal(ok.identity.subject, "alice");
  // The token's outcome is not changed (it may be the cache's).
  const cachedOutcome = verified();
  await dpopCall(b, [["dpop", await proof()]], cachedOutcome);
  assert.equal(cachedOutcome.ok && cachedOutcome.identity.confirmation, undefined);
});

test("a DPoP call: the token must be bound to the proof's key (cnf.jkt)", async () => {
  const b = binding("required");
  for (const cnf of [unbound, { jkt: otherKey.jkt }, { jkt: 1 }, { "x5t#S256": key.jkt }, "jkt", null]) {
    const r = refusal(await dpopCall(b, [["dpop", await proof()]], verified(cnf)));
    assert.deepEqual(
      [r.reason, r.detail, r.challenge?.schemes],
      ["INVALID_DPOP_PROOF", "jkt", ["DPoP"]],
      typeof cnf === "symbol" ? "none" : JSON.stringify(cnf),
    );
  }
  // A proof by another key than the token's.
  assert.equal(refusal(await dpopCall(b, [["dpop", await proof({}, otherKey)]])).detail, "jkt");
});

test("a DPoP call: the proof's own checks, each with its detail and a DPoP challenge", async () => {
  const b = binding("required");
  const cases: [Record<string, unknown>, string][] = [
    [{ htm: "GET" }, "htm"],
    [{ htu: "https://api.test/example.v1.GreeterService/Admin" }, "htu"],
    [{ iat: nowS - 600 }, "iat"],
    [{ ath: "not-the-hash" }, "ath"],
  ];
  for (const [claims, detail] of cases) {
    const r = refusal(await dpopCall(b, [["dpop", await proof(claims)]]));
    assert.deepEqual([r.reason, r.detail, r.challenge?.schemes], ["INVALID_DPOP_PROOF", detail, ["DPoP"]], detail);
  }
  const replayed = await proof();
  assert.ok((await dpopCall(b, [["dpop", replayed]])).ok);
  assert.equal(refusal(await dpopCall(b, [["dpop", replayed]])).detail, "jti_replay");
});

test("the replay store is the one given; one that fails refuses the call (REPLAY_STORE_UNAVAILABLE)", async () => {
  const keys: string[] = [];
  const recording = binding({ mode: "required", replayStore: { add: async (k) => keys.push(k) === 1 } });
  assert.ok((await dpopCall(recording, [["dpop", await proof()]])).ok);
  assert.equal(keys.length, 1);
  assert.ok(keys[0]!.startsWith("https://issuer.test\n"), "the replay scope is the token's issuer");
  const failing = binding({ mode: "required", replayStore: { add: () => Promise.reject(new Error("down")) } });
  const r = refusal(await dpopCall(failing, [["dpop", await proof()]]));
  assert.deepEqual([r.reason, r.detail], ["REPLAY_STORE_UNAVAILABLE", "replay_store"]);
});

test("nonces: a proof without the current nonce is USE_DPOP_NONCE with the nonce; with it, accepted", async () => {
  const b = binding({ mode: "required", nonce: { secret } });
  const first = refusal(await dpopCall(b, [["dpop", await proof()]]));
  assert.equal(first.reason, "USE_DPOP_NONCE");
  const nonce = first.challenge?.dpopNonce;
  assert.ok(typeof nonce === "string" && nonce.length > 0);
  assert.deepEqual(first.challenge, { schemes: ["DPoP"], dpopAlgorithms: defaultAlgorithms, dpopNonce: nonce });
  assert.equal(refusal(await dpopCall(b, [["dpop", await proof({ nonce: "stale" })]])).reason, "USE_DPOP_NONCE");
  assert.ok((await dpopCall(b, [["dpop", await proof({ nonce })]])).ok);
  // Another binding with the same secret takes it (a fleet); one with another secret does not.
  assert.ok((await dpopCall(binding({ mode: "required", nonce: { secret } }), [["dpop", await proof({ nonce })]])).ok);
  const other = binding({ mode: "required", nonce: { secret: `${secret}-other` } });
  assert.equal(refusal(await dpopCall(other, [["dpop", await proof({ nonce })]])).reason, "USE_DPOP_NONCE");
});

test("no refusal holds the proof, the token or the key", async () => {
  const b = binding({ mode: "required", nonce: { secret } });
  for (const claims of [{}, { htm: "GET" }, { iat: 0 }]) {
    const sent = await proof(claims);
    const r = refusal(await dpopCall(b, [["dpop", sent]], verified({ jkt: otherKey.jkt })));
    for (const part of [sent, ...sent.split("."), token, ...token.split("."), String(key.jwk.x), String(key.jwk.y)]) {
      assert.ok(!JSON.stringify(r).includes(part), `${r.detail}: a part of a secret in the refusal`);
    }
  }
});

test("the proof's iat window takes the issuer's clock tolerance: one for all, or the token's issuer's", async () => {
  const iatOff = async (b: DpopBinding, seconds: number, iss = "https://issuer.test") => {
    const outcome = await dpopCall(b, [["dpop", await proof({ iat: nowS - seconds })]], verifiedBy(iss));
    return outcome.ok ? "ok" : outcome.detail;
  };
  const verifiedBy = (iss: string) =>
    accepted({ subject: "alice", scopes: new Set(), claims: { iss, sub: "alice", cnf: { jkt: key.jkt } }, authenticator: "jwt" });
  // Without a tolerance, the window alone (60 s).
  const bare = binding("required");
  assert.deepEqual([await iatOff(bare, 55), await iatOff(bare, 65)], ["ok", "iat"]);
  // One tolerance (createJwtAuthenticator's clockToleranceSeconds): 60 + 30 on both sides.
  const one = createDpopBinding("required", { ...clock, clockToleranceSeconds: 30 }) as DpopBinding;
  assert.deepEqual([await iatOff(one, 85), await iatOff(one, 95), await iatOff(one, -85)], ["ok", "iat", "ok"]);
  // One per issuer (the multi-issuer authenticator): the token's iss picks it.
  const perIssuer = createDpopBinding("required", {
    ...clock,
    clockToleranceSeconds: new Map([
      ["https://a.test", 0],
      ["https://b.test", 100],
    ]),
  }) as DpopBinding;
  assert.deepEqual(
    [await iatOff(perIssuer, 65, "https://a.test"), await iatOff(perIssuer, 150, "https://b.test")],
    ["iat", "ok"],
  );
  assert.equal(await iatOff(perIssuer, 165, "https://b.test"), "iat");
  // One replay store for every issuer's verifier: a proof used twice is a replay.
  const sent = await proof();
  assert.ok((await dpopCall(perIssuer, [["dpop", sent]], verifiedBy("https://b.test"))).ok);
  assert.equal(refusal(await dpopCall(perIssuer, [["dpop", sent]], verifiedBy("https://b.test"))).detail, "jti_replay");
});
