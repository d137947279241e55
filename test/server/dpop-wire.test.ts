// DPoP (RFC 9449) over the wire: real servers on 127.0.0.1 (HTTP/2 cleartext) with the example's routes,
// clients on Connect, gRPC and gRPC-web, tokens bound to a key (cnf.jkt) and proofs made here with jose.
// Every refusal with its reason, detail and challenge; the nonce flow across two servers that share only
// the nonce secret; and no token, proof or key text in anything a client or a listener sees.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as http2 from "node:http2";
import { Code, type ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { readAuthFailure } from "@connectauth/core";
import {
  type DecisionEvent,
  type DpopOptions,
  authIdentityKey,
  createJwtAuthenticator,
  createServerAuth,
} from "@connectauth/server";
import { nodeContextValues } from "@connectauth/node";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { startExampleServer } from "../../packages/example/src/server.js";
import { type Protocol, protocols, visibleText } from "../support/wire.js";
import { failure } from "../support/failure.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { rawUnary } from "./adapters/raw-wire.js";
import { type ProofKey, proofKey, signProof } from "../../packages/server/src/test-support/dpop.js";
import { transportOf } from "../support/transports.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const algorithms = ["ES256", "EdDSA"];
const algs = 'algs="ES256 EdDSA"';
const nonceSecret = `nonce-secret-${randomUUID()}`; // 49 bytes, shared by the two nonce servers only

let signer: TestSigner;
let key: ProofKey; // the client's key: the tokens are bound to it
let otherKey: ProofKey; // a key the tokens are not bound to
let boundToken: string;

/** A DPoP proof (RFC 9449 §4.2) for one request: typ dpop+jwt, the public jwk, htm, htu, iat, jti, ath. */
function proofFor(
  request: { readonly method: string; readonly url: string },
  token: string,
  claims: Record<string, unknown> = {},
  by: ProofKey = key,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signProof(by, token, { htm: request.method, htu: request.url, iat, jti: randomUUID(), ...claims });
}

/** How a test client sends its credential: the scheme, the token, and its proofs for each request. */
interface Sending {
  readonly scheme?: "DPoP" | "Bearer";
  readonly token?: string;
  /** The DPoP headers of one request (default: one fresh proof of the request by `key`). */
  readonly proofs?: (request: { readonly method: string; readonly url: string }, token: string) => Promise<string[]>;
}

/** Every proof sent, to look for in what comes back. */
const sentProofs: string[] = [];

/** A client interceptor that sends the credential and proofs the way a DPoP client does, per request. */
const sending =
  (s: Sending): Interceptor =>
  (next) =>
  async (req) => {
    const token = s.token ?? boundToken;
    req.header.set("authorization", `${s.scheme ?? "DPoP"} ${token}`);
    const request = { method: req.requestMethod, url: req.url };
    const proofs = s.proofs === undefined ? [await proofFor(request, token)] : await s.proofs(request, token);
    sentProofs.push(...proofs);
    for (const proof of proofs) req.header.append("dpop", proof);
    return next(req);
  };

const clientOf = (baseUrl: string, protocol: Protocol, s?: Sending) =>
  createClient(GreeterService, transportOf(baseUrl, protocol, s === undefined ? [] : [sending(s)]));

/** A server with the example's routes and one DPoP-mode JWT authenticator, and what it decided. */
interface DpopServer {
  readonly url: string;
  readonly events: DecisionEvent[];
  /** The identity's confirmation each admitted call's handler side saw (`undefined` for a bearer call). */
  readonly confirmations: ({ readonly jkt: string } | undefined)[];
  close(): Promise<void>;
}

const servers: Listening[] = [];
async function startDpopServer(dpop: "required" | "allowed" | DpopOptions): Promise<DpopServer> {
  const events: DecisionEvent[] = [];
  const confirmations: ({ readonly jkt: string } | undefined)[] = [];
  const auth = createServerAuth({
    authenticators: [createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys: signer.jwks, dpop })],
    realm: "greeter",
    onDecision: (e) => events.push(e),
  });
  // Behind connectauth's interceptor: what the handler would read with getAuth.
  const recorder: Interceptor = (next) => (req) => {
    confirmations.push(req.contextValues.get(authIdentityKey)?.confirmation);
    return next(req);
  };
  const handler = connectNodeAdapter(
    auth.install({ routes: greeterRoutes, interceptors: [recorder], contextValues: nodeContextValues }),
  );
  const listening = await listenOnLoopback(http2.createServer(handler));
  servers.push(listening);
  return { url: `http://${listening.hostPort}`, events, confirmations, close: () => listening.close() };
}

let required: DpopServer;
let allowed: DpopServer;
let nonceA: DpopServer;
let nonceB: DpopServer;
before(async () => {
  signer = await createTestSigner("k1");
  key = await proofKey();
  otherKey = await proofKey();
  boundToken = await signer.sign({ iss: issuer, aud: audience, sub: "alice", scope: "greet", cnf: { jkt: key.jkt } });
  required = await startDpopServer({ mode: "required", algorithms });
  allowed = await startDpopServer({ mode: "allowed", algorithms });
  // Two servers of one fleet: the same nonce secret, nothing else shared (each its own replay store).
  nonceA = await startDpopServer({ mode: "required", algorithms, nonce: { secret: nonceSecret } });
  nonceB = await startDpopServer({ mode: "required", algorithms, nonce: { secret: nonceSecret } });
});
after(async () => {
  for (const s of servers) await s.close();
});

/** Everything of a refusal a test checks: reason, detail, challenge and nonce as received, and its text. */
const refusals: ConnectError[] = [];
async function refused(call: Promise<unknown>) {
  const f = await failure(call, "expected the call to be refused");
  refusals.push(f.error);
  return {
    code: f.code,
    reason: f.failure?.reason,
    detail: f.failure?.metadata["detail"],
    challenge: f.wwwAuthenticate,
    nonce: f.error.metadata.get("dpop-nonce"),
  };
}

for (const protocol of protocols) {
  describe(`${protocol}`, () => {
    test("a bound token with a valid proof is allowed: the identity is confirmed, the event says dpop", async () => {
      const before = required.events.length;
      const greeting = await clientOf(required.url, protocol, {}).greet({ name: "dpop" });
      assert.equal(greeting.greeting, "Hello, dpop! (from alice)");
      assert.deepEqual(required.confirmations.at(-1), { jkt: key.jkt });
      const [event] = required.events.slice(before);
      assert.deepEqual([event?.allowed, event?.dpop, event?.subject], [true, true, "alice"]);
      // The allowed mode takes it too, and an unbound bearer token there, unconfirmed and not dpop.
      assert.equal((await clientOf(allowed.url, protocol, {}).whoAmI({})).subject, "alice");
      assert.deepEqual(allowed.confirmations.at(-1), { jkt: key.jkt });
      const unbound = await signer.sign({ iss: issuer, aud: audience, sub: "bob", scope: "greet" });
      const bearer = await clientOf(allowed.url, protocol, { scheme: "Bearer", token: unbound, proofs: async () => [] }).greet(
        {},
      );
      assert.equal(bearer.greeting, "Hello, world! (from bob)");
      assert.equal(allowed.confirmations.at(-1), undefined);
      assert.equal(allowed.events.at(-1)?.dpop, false);
    });

    test("each refusal of the proof: reason, detail and a DPoP challenge", async () => {
      const invalidProof = `DPoP realm="greeter", error="invalid_dpop_proof", ${algs}`;
      const old = Math.floor(Date.now() / 1000) - 600;
      const cases: [string, Sending["proofs"], string][] = [
        ["no proof", async () => [], "missing"],
        ["two proofs (joined into one field)", async (r, t) => [await proofFor(r, t), await proofFor(r, t)], "multiple"],
        ["a proof for another URL", async (r, t) => [await proofFor({ ...r, url: `${r.url}Again` }, t)], "htu"],
        ["a proof for another method", async (r, t) => [await proofFor({ ...r, method: "GET" }, t)], "htm"],
        ["an old proof", async (r, t) => [await proofFor(r, t, { iat: old })], "iat"],
        ["a proof by another key than the token's", async (r, t) => [await proofFor(r, t, {}, otherKey)], "jkt"],
        ["a proof for another token", async (r) => [await proofFor(r, "another-token")], "ath"],
      ];
      for (const [what, proofs, detail] of cases) {
        const r = await refused(clientOf(required.url, protocol, { proofs }).greet({}));
        assert.deepEqual(
          [r.code, r.reason, r.detail, r.challenge],
          [Code.Unauthenticated, "INVALID_DPOP_PROOF", detail, invalidProof],
          what,
        );
        const event = required.events.at(-1);
        assert.deepEqual([event?.reason, event?.detail, event?.dpop], ["INVALID_DPOP_PROOF", detail, true], what);
      }
    });

    test("a proof is accepted once: the same proof again is a replay", async () => {
      let replayed: string | undefined;
      const same: Sending["proofs"] = async (r, t) => {
        replayed ??= await proofFor(r, t);
        return [replayed];
      };
      assert.equal((await clientOf(required.url, protocol, { proofs: same }).greet({})).greeting, "Hello, world! (from alice)");
      const r = await refused(clientOf(required.url, protocol, { proofs: same }).greet({}));
      assert.deepEqual([r.reason, r.detail], ["INVALID_DPOP_PROOF", "jti_replay"]);
      assert.equal(r.challenge, `DPoP realm="greeter", error="invalid_dpop_proof", ${algs}`);
    });

    test("bearer: refused where DPoP is required, and for a bound token where it is allowed; DPoP challenges", async () => {
      const noProofs = async () => [];
      const dpopRequired = await refused(clientOf(required.url, protocol, { scheme: "Bearer", proofs: noProofs }).greet({}));
      assert.deepEqual(
        [dpopRequired.reason, dpopRequired.detail, dpopRequired.challenge],
        ["INVALID_TOKEN", "dpop_required", `DPoP realm="greeter", error="invalid_token", ${algs}`],
      );
      const dpopBound = await refused(clientOf(allowed.url, protocol, { scheme: "Bearer", proofs: noProofs }).greet({}));
      assert.deepEqual(
        [dpopBound.reason, dpopBound.detail, dpopBound.challenge],
        ["INVALID_TOKEN", "dpop_bound", `DPoP realm="greeter", error="invalid_token", ${algs}`],
      );
    });

    test("no credential: DPoP alone where it is required, Bearer and DPoP where it is allowed", async () => {
      const none = await refused(clientOf(required.url, protocol).greet({}));
      assert.deepEqual([none.reason, none.challenge], ["MISSING_CREDENTIALS", `DPoP realm="greeter", ${algs}`]);
      const both = await refused(clientOf(allowed.url, protocol).greet({}));
      assert.deepEqual(
        [both.reason, both.challenge],
        ["MISSING_CREDENTIALS", `Bearer realm="greeter", DPoP realm="greeter", ${algs}`],
      );
      // After a DPoP call, a refusal of the rule answers DPoP too.
      const scope = await refused(clientOf(allowed.url, protocol, {}).admin({}));
      assert.deepEqual(
        [scope.reason, scope.challenge],
        ["INSUFFICIENT_SCOPE", `DPoP realm="greeter", error="insufficient_scope", scope="admin greet", ${algs}`],
      );
    });

    test("nonces: USE_DPOP_NONCE with a dpop-nonce the client reads, then accepted; two servers take each other's", async () => {
      const r = await refused(clientOf(nonceA.url, protocol, {}).greet({}));
      assert.deepEqual(
        [r.reason, r.detail, r.challenge],
        ["USE_DPOP_NONCE", "nonce", `DPoP realm="greeter", error="use_dpop_nonce", ${algs}`],
      );
      const nonce = r.nonce;
      assert.ok(typeof nonce === "string" && nonce.length > 0, "the dpop-nonce header reaches the client");
      const withNonce: Sending["proofs"] = async (req, t) => [await proofFor(req, t, { nonce })];
      assert.equal(
        (await clientOf(nonceA.url, protocol, { proofs: withNonce }).greet({})).greeting,
        "Hello, world! (from alice)",
      );
      // The other server of the fleet issued nothing to this client, and takes the nonce all the same ...
      assert.equal(
        (await clientOf(nonceB.url, protocol, { proofs: withNonce }).greet({})).greeting,
        "Hello, world! (from alice)",
      );
      // ... and the other way round.
      const fromB = (await refused(clientOf(nonceB.url, protocol, {}).greet({}))).nonce;
      assert.ok(typeof fromB === "string" && fromB.length > 0);
      const withB: Sending["proofs"] = async (req, t) => [await proofFor(req, t, { nonce: fromB })];
      assert.equal((await clientOf(nonceA.url, protocol, { proofs: withB }).greet({})).greeting, "Hello, world! (from alice)");
      // A nonce no server of the fleet issued is refused, with the nonce to use.
      const madeUp: Sending["proofs"] = async (req, t) => [await proofFor(req, t, { nonce: "made-up" })];
      const refusedMadeUp = await refused(clientOf(nonceB.url, protocol, { proofs: madeUp }).greet({}));
      assert.deepEqual([refusedMadeUp.reason, typeof refusedMadeUp.nonce], ["USE_DPOP_NONCE", "string"]);
      // The servers without nonces send none.
      assert.equal((await refused(clientOf(required.url, protocol).greet({}))).nonce, null);
    });
  });
}

test("two DPoP header fields counted on the wire (nodeContextValues) are multiple, over every protocol", async () => {
  const target = { url: required.url, httpVersion: "2" as const };
  const path = "/example.v1.GreeterService/Greet";
  const request = { method: "POST", url: `${required.url}${path}` };
  for (const protocol of protocols) {
    const fields = [
      ["authorization", `DPoP ${boundToken}`],
      ["dpop", await proofFor(request, boundToken)],
      ["dpop", await proofFor(request, boundToken)],
    ] as const;
    const outcome = await rawUnary(target, protocol, path, fields);
    assert.deepEqual(
      outcome,
      {
        code: Code.Unauthenticated,
        reason: "INVALID_DPOP_PROOF",
        challenge: `DPoP realm="greeter", error="invalid_dpop_proof", ${algs}`,
      },
      protocol,
    );
    assert.equal(required.events.at(-1)?.detail, "multiple", protocol);
    // One field: the control.
    const one = await rawUnary(target, protocol, path, [fields[0], ["dpop", await proofFor(request, boundToken)]]);
    assert.equal(one.code, "OK", protocol);
  }
});

test("no token, proof or key text in any error message, metadata, header or decision event", () => {
  assert.ok(refusals.length > 40, `refusals were collected (${refusals.length})`);
  const secrets = [boundToken, ...sentProofs, ...[key, otherKey].flatMap((k) => [k.jwk.x!, k.jwk.y!])];
  const parts = secrets.flatMap((s) => [s, ...s.split(".").filter((p) => p.length >= 16)]);
  const seen = [
    ...refusals.map(visibleText),
    ...[required, allowed, nonceA, nonceB].flatMap((s) => s.events.map((e) => JSON.stringify(e))),
  ];
  for (const text of seen) {
    for (const part of parts) assert.ok(!text.includes(part), "a token, proof or key (or a part of one) was echoed");
  }
  // And the refusals are the ones of connectauth, read by the one reader.
  assert.ok(refusals.every((e) => readAuthFailure(e) !== undefined));
});

test("the example server lets browsers send DPoP proofs and read DPoP-Nonce (CORS)", async () => {
  const example = await startExampleServer();
  try {
    const origin = "http://localhost:3000";
    const pre = await fetch(`${example.url}/example.v1.GreeterService/Greet`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, dpop" },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /\bDPoP\b/);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /\bAuthorization\b/);
    const r = await fetch(`${example.url}/example.v1.GreeterService/Ping`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("access-control-expose-headers") ?? "", /\bDPoP-Nonce\b/);
    assert.match(r.headers.get("access-control-expose-headers") ?? "", /\bWWW-Authenticate\b/);
  } finally {
    await example.close();
  }
});
