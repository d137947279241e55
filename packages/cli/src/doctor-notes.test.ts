import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { callNotes, healthNotes, transportNotes } from "./doctor-notes.js";
import type { HealthFacts } from "./health-probe.js";
import type { TokenFacts } from "./token-facts.js";
import { plaintextTransport } from "./test-support/transport-facts.js";

const plaintext = plaintextTransport;
const local = new URL("http://127.0.0.1:8080");

suite("transportNotes()", () => {
  test("a server that speaks one HTTP version only", () => {
    assert.deepEqual(transportNotes(local, plaintext), []);
    assert.match(
      transportNotes(local, { ...plaintext, http1: false }).join(),
      /^the server speaks HTTP\/2 only: HTTP\/1\.1 clients/,
    );
    assert.match(
      transportNotes(local, { ...plaintext, http2: false }).join(),
      /^the server speaks HTTP\/1\.1 only: gRPC clients/,
    );
  });

  test("nothing until the probes got as far as HTTP (reached, TLS as the URL says, certificate trusted)", () => {
    const h2Only = { ...plaintext, http1: false };
    assert.deepEqual(transportNotes(local, { ...h2Only, reachable: false }), []);
    assert.deepEqual(transportNotes(new URL("https://127.0.0.1:8443"), h2Only), [], "https against plaintext");
    const tls = { ...h2Only, speaksTls: true, alpn: "h2" };
    assert.equal(transportNotes(new URL("https://127.0.0.1:8443"), tls).length, 1);
    assert.deepEqual(transportNotes(new URL("https://127.0.0.1:8443"), { ...tls, certificateError: "CERT_HAS_EXPIRED" }), []);
  });
});

const token: TokenFacts = {
  hash: "0123abcd",
  isJwt: true,
  formatProblem: undefined,
  alg: "ES256",
  kid: "k",
  typ: "at+jwt",
  iss: "https://issuer.test",
  sub: "alice",
  aud: ["greeter"],
  exp: 1_800_000_300,
  nbf: undefined,
  iat: 1_800_000_000,
  scopes: [],
  expiresInSeconds: 300,
  notBeforeInSeconds: undefined,
};

suite("callNotes()", () => {
  test("none without a token, or for a sound token to loopback", () => {
    assert.deepEqual(callNotes(new URL("http://api.example.test"), null), []);
    assert.deepEqual(callNotes(local, token), []);
    assert.deepEqual(callNotes(new URL("https://api.example.test"), token), []);
  });

  test("a token in plaintext to a host that is not loopback", () => {
    assert.deepEqual(callNotes(new URL("http://api.example.test"), token), [
      "the token was sent in plaintext to a host that is not loopback: anyone on the path can read it. Use https.",
    ]);
    assert.deepEqual(callNotes(new URL("http://localhost:8080"), token), []);
  });

  test("what the token says by this machine's clock", () => {
    assert.deepEqual(callNotes(local, { ...token, exp: undefined, expiresInSeconds: undefined }), [
      "token: no exp claim (connectauth servers require one).",
    ]);
    assert.deepEqual(callNotes(local, { ...token, expiresInSeconds: -7200 }), [
      "token: expired 2 h ago by this machine's clock.",
    ]);
    assert.deepEqual(callNotes(local, { ...token, expiresInSeconds: 20 }), ["token: expires in 20 s."]);
    assert.deepEqual(callNotes(local, { ...token, nbf: 1_800_000_600, notBeforeInSeconds: 600 }), [
      "token: not valid for 10 min more by this machine's clock (nbf).",
    ]);
    assert.deepEqual(callNotes(local, { ...token, alg: "none" }), ['token: alg "none" (unsigned); no server should accept it.']);
  });

  test("a token that is not a JWT: its format problem, and nothing about claims", () => {
    const opaque = { ...token, isJwt: false, formatProblem: "not a JWT", exp: undefined, expiresInSeconds: undefined };
    assert.deepEqual(callNotes(local, opaque), ["token: not a JWT."]);
  });

  test("a DPoP binding that does not fit the call: bound but sent as Bearer, another key, no key", () => {
    const a = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    const b = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    const facts = (keyJkt: string | null, tokenJkt: string | null) => ({ keyJkt, tokenJkt, nonceRetried: false });
    assert.deepEqual(callNotes(local, token, facts(null, null)), []);
    assert.deepEqual(callNotes(local, token, facts(a, a)), [], "the key is the token's");
    assert.deepEqual(callNotes(local, token, facts(null, a)), [
      `token: bound to a DPoP key (cnf.jkt ${a}) but sent as Bearer: give that key with --dpop-key FILE.`,
    ]);
    assert.deepEqual(callNotes(local, token, facts(a, b)), [
      `token: bound to the key ${b} (cnf.jkt), not to the --dpop-key (${a}).`,
    ]);
    assert.match(callNotes(local, token, facts(a, null)).join(), /^token: bound to no key \(no cnf\.jkt\)/);
  });
});

suite("healthNotes()", () => {
  const facts = (more: Partial<HealthFacts>): HealthFacts => ({
    status: null,
    service: "example.v1.GreeterService",
    serviceStatus: null,
    error: null,
    readiness: [],
    ...more,
  });
  test("nothing when the health service answered SERVING or NOT_SERVING (the verdict says those)", () => {
    assert.deepEqual(healthNotes(facts({ status: "SERVING" })), []);
    assert.deepEqual(healthNotes(facts({ status: "NOT_SERVING" })), []);
  });
  test("no health service: one quiet note", () => {
    for (const error of ["Unimplemented", "NotFound"]) {
      assert.deepEqual(healthNotes(facts({ error })), ["no health service (grpc.health.v1); skipped."]);
    }
  });
  test("refused by auth: not public, and how to make it", () => {
    for (const error of ["Unauthenticated", "PermissionDenied"]) {
      assert.match(
        healthNotes(facts({ error })).join(),
        new RegExp(`^the health service is not public: .*\\(${error}\\).*public: true`),
      );
    }
  });
  test("another failure or status: said, and skipped", () => {
    assert.deepEqual(healthNotes(facts({ error: "DeadlineExceeded" })), ["the health check failed (DeadlineExceeded); skipped."]);
    assert.deepEqual(healthNotes(facts({ status: "UNKNOWN" })), ["grpc.health.v1 says UNKNOWN; skipped."]);
  });
});
