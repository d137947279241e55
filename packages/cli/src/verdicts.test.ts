// Every row of doctor's verdict tables, from facts as the probes, the token decoder and the call report
// them: the server's errors are core's createAuthError (what a connectauth server sends), read back by
// callOutcome. The last test checks that every verdict id has a case here.
import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ErrorInfoSchema, type Reason, createAuthError } from "@connectauth/core";
import { callOutcome } from "./call-outcome.js";
import type { DpopFacts } from "./dpop-key.js";
import type { HealthFacts } from "./health-probe.js";
import { healthVerdict } from "./health-verdicts.js";
import { type CallSituation, callVerdict } from "./call-verdicts.js";
import type { TokenFacts } from "./token-facts.js";
import type { TransportFacts } from "./transport-probe.js";
import { type TransportSituation, transportVerdict } from "./transport-verdicts.js";
import { type Verdict, type VerdictId, verdicts } from "./verdicts.js";
import { plaintextTransport } from "./test-support/transport-facts.js";

const judged = new Set<VerdictId>();
function expect(verdict: Verdict | undefined, id: VerdictId, summary: RegExp, fix: RegExp): void {
  assert.ok(verdict !== undefined, `expected ${id}, got no verdict`);
  assert.equal(verdict.id, id, verdict.summary);
  assert.match(verdict.summary, summary);
  assert.match(verdict.fix, fix);
  judged.add(id);
}

// --- transport ---

const reached = plaintextTransport;
const at = (url: string, transport: Partial<TransportFacts>, more: Partial<TransportSituation> = {}): TransportSituation => ({
  url: new URL(url),
  protocol: "connect",
  httpVersion: undefined,
  transport: { ...reached, ...transport },
  ...more,
});
const unreachable = (connectError: string) => ({ reachable: false, connectError, http1: false, http2: false });
const tls = { speaksTls: true, alpn: "h2" };

suite("transportVerdict()", () => {
  test("a transport that works: no verdict, the call is made", () => {
    assert.equal(transportVerdict(at("http://127.0.0.1:8080", {})), undefined);
    assert.equal(transportVerdict(at("https://127.0.0.1:8443", tls)), undefined);
    assert.equal(transportVerdict(at("http://127.0.0.1:8080", {}, { protocol: "grpc", httpVersion: "2" })), undefined);
  });

  test("server_unreachable: a host DNS does not resolve, or nothing listening", () => {
    expect(
      transportVerdict(at("http://api.invalid:8080", unreachable("ENOTFOUND"))),
      "server_unreachable",
      /^nothing answers at api\.invalid:8080 \(ENOTFOUND\)\.$/,
      /check the host name "api\.invalid"/,
    );
    expect(
      transportVerdict(at("https://127.0.0.1", unreachable("ECONNREFUSED"))),
      "server_unreachable",
      /127\.0\.0\.1:443 \(ECONNREFUSED\)/,
      /^start the server.*listening on 127\.0\.0\.1:443/,
    );
    expect(
      transportVerdict(at("http://127.0.0.1", unreachable("ETIMEDOUT"))),
      "server_unreachable",
      /127\.0\.0\.1:80 \(ETIMEDOUT\)/,
      /^start the server/,
    );
  });

  test("tls_to_plaintext: https to a port that speaks plaintext", () => {
    expect(
      transportVerdict(at("https://127.0.0.1:8080", { speaksTls: false })),
      "tls_to_plaintext",
      /says https but 127\.0\.0\.1:8080 speaks plaintext/,
      /^use http:\/\/127\.0\.0\.1:8080, or serve TLS/,
    );
  });

  test("plaintext_to_tls: http to a port that expects TLS, the path kept", () => {
    expect(
      transportVerdict(at("http://127.0.0.1:8443", tls)),
      "plaintext_to_tls",
      /says http but 127\.0\.0\.1:8443 expects TLS/,
      /^use https:\/\/127\.0\.0\.1:8443\.$/,
    );
    expect(
      transportVerdict(at("http://127.0.0.1:8443/api", tls)),
      "plaintext_to_tls",
      /expects TLS/,
      /^use https:\/\/127\.0\.0\.1:8443\/api\.$/,
    );
  });

  test("certificate_error: the fix follows Node's code", () => {
    const cert = (code: string, url = "https://127.0.0.1:8443") => transportVerdict(at(url, { ...tls, certificateError: code }));
    for (const code of [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "SELF_SIGNED_CERT_IN_CHAIN",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    ]) {
      expect(cert(code), "certificate_error", new RegExp(`not trusted: ${code}\\.$`), /--ca <file\.pem>/);
    }
    expect(cert("CERT_HAS_EXPIRED"), "certificate_error", /CERT_HAS_EXPIRED/, /has expired: renew it/);
    expect(
      cert("CERT_NOT_YET_VALID"),
      "certificate_error",
      /CERT_NOT_YET_VALID/,
      /not valid yet: check the server's and this machine's clocks/,
    );
    expect(
      cert("ERR_TLS_CERT_ALTNAME_INVALID", "https://localhost:8443"),
      "certificate_error",
      /ALTNAME/,
      /not issued for "localhost"/,
    );
    expect(cert("UNABLE_TO_GET_CRL"), "certificate_error", /UNABLE_TO_GET_CRL/, /serve the intermediate certificates/);
  });

  test("http_version_mismatch: gRPC without HTTP/2, a forced version the server does not speak, neither spoken", () => {
    const h1Only = { http1: true, http2: false };
    expect(
      transportVerdict(at("http://127.0.0.1:8080", h1Only, { protocol: "grpc" })),
      "http_version_mismatch",
      /gRPC needs HTTP\/2/,
      /--protocol connect or grpc-web/,
    );
    expect(
      transportVerdict(at("http://127.0.0.1:8080", {}, { protocol: "grpc", httpVersion: "1.1" })),
      "http_version_mismatch",
      /gRPC needs HTTP\/2/,
      /serve HTTP\/2/,
    );
    expect(
      transportVerdict(at("http://127.0.0.1:8080", { http1: false, http2: true }, { httpVersion: "1.1" })),
      "http_version_mismatch",
      /HTTP\/1\.1 was asked for, and the server speaks HTTP\/2 only/,
      /allowHTTP1: true/,
    );
    expect(
      transportVerdict(at("http://127.0.0.1:8080", h1Only, { httpVersion: "2" })),
      "http_version_mismatch",
      /HTTP\/2 was asked for/,
      /--http-version 1\.1/,
    );
    expect(
      transportVerdict(at("http://127.0.0.1:8080", { http1: false, http2: false })),
      "http_version_mismatch",
      /neither HTTP\/1\.1 nor HTTP\/2/,
      /is it an HTTP server/,
    );
  });

  test("the order: the first cause wins (unreachable before TLS, TLS before the certificate, the certificate before HTTP)", () => {
    assert.equal(
      transportVerdict(at("https://127.0.0.1:1", { ...unreachable("ECONNREFUSED"), speaksTls: false }))?.id,
      "server_unreachable",
    );
    assert.equal(
      transportVerdict(at("http://127.0.0.1:8443", { ...tls, certificateError: "CERT_HAS_EXPIRED" }))?.id,
      "plaintext_to_tls",
    );
    assert.equal(
      transportVerdict(
        at("https://127.0.0.1:8443", { ...tls, certificateError: "CERT_HAS_EXPIRED", http1: false }, { httpVersion: "1.1" }),
      )?.id,
      "certificate_error",
    );
  });
});

// --- the call ---

const now = 1_800_000_000; // seconds
const none: TokenFacts = {
  hash: "0123abcd",
  isJwt: true,
  formatProblem: undefined,
  alg: "ES256",
  kid: "dev-1",
  typ: "at+jwt",
  iss: "https://issuer.test",
  sub: "alice",
  aud: ["greeter"],
  exp: now + 300,
  nbf: undefined,
  iat: now,
  scopes: ["greet"],
  expiresInSeconds: 300,
  notBeforeInSeconds: undefined,
};
const token = (facts: Partial<TokenFacts> = {}): TokenFacts => ({ ...none, ...facts });
const Greet = "example.v1.GreeterService/Greet";
/** The situation after a call whose answer is `error` (`undefined`: OK). */
const answered = (error: ConnectError | undefined, t: TokenFacts | null = token(), method = Greet): CallSituation => ({
  method,
  token: t,
  call: callOutcome(error, t),
});
const denied = (
  reason: Reason,
  t: TokenFacts | null = token(),
  metadata: Record<string, string> = {},
  requiredScopes?: readonly string[],
) => callVerdict(answered(createAuthError(reason, { realm: "greeter", metadata, requiredScopes }), t));
const invalid = (detail: string, t: TokenFacts | null = token()) => denied("INVALID_TOKEN", t, { detail });

suite("callVerdict()", () => {
  test("ok: public without a credential, or passed with one", () => {
    expect(
      callVerdict(answered(undefined, null, "example.v1.GreeterService/Ping")),
      "ok",
      /^the call passed without a credential \(example\.v1\.GreeterService\/Ping is public\)\.$/,
      /^$/,
    );
    expect(callVerdict(answered(undefined)), "ok", /^the call passed auth and the handler answered OK\.$/, /^$/);
  });

  test("missing_credentials and credentials_dropped: MISSING_CREDENTIALS without, and with, a token sent", () => {
    expect(
      denied("MISSING_CREDENTIALS", null),
      "missing_credentials",
      /no credential was sent, and example\.v1\.GreeterService\/Greet needs one/,
      /--token\/--token-file/,
    );
    expect(
      denied("MISSING_CREDENTIALS"),
      "credentials_dropped",
      /a token was sent but the server received no Authorization header/,
      /drops the header.*Access-Control-Allow-Headers: authorization/,
    );
  });

  test("malformed_credentials: the token's own format problem is the fix, else the grammar", () => {
    const pasted = token({
      isJwt: false,
      formatProblem: 'the token starts with "Bearer ": pass the token alone, the scheme is added for you',
    });
    expect(denied("MALFORMED_CREDENTIALS", pasted), "malformed_credentials", /is malformed/, /starts with "Bearer "/);
    expect(
      denied("MALFORMED_CREDENTIALS"),
      "malformed_credentials",
      /is malformed/,
      /send exactly "Authorization: Bearer <token>"/,
    );
  });

  test("multiple_credentials", () => {
    expect(
      denied("MULTIPLE_CREDENTIALS"),
      "multiple_credentials",
      /more than one credential reached the server/,
      /send one Authorization header only/,
    );
  });

  test("token_expired: too old (max_age), clocks that differ, or expired", () => {
    expect(
      denied("TOKEN_EXPIRED", token(), { detail: "max_age" }),
      "token_expired",
      /older than the server accepts \(issued at 2027-01-15T08:00:00\.000Z\)/,
      /maxTokenAgeSeconds/,
    );
    expect(
      denied("TOKEN_EXPIRED", token({ iat: undefined }), { detail: "max_age" }),
      "token_expired",
      /too long ago, or without iat/,
      /maxTokenAgeSeconds/,
    );
    expect(
      denied("TOKEN_EXPIRED", token({ expiresInSeconds: 1200 })),
      "token_expired",
      /valid for 20 min more: the clocks differ/,
      /^synchronize the server's clock \(NTP\)\.$/,
    );
    expect(
      denied("TOKEN_EXPIRED", token({ exp: now - 7200, expiresInSeconds: -7200 })),
      "token_expired",
      /^the token expired 2 h ago \(exp 2027-01-15T06:00:00\.000Z\)\.$/,
      /refreshes ahead of expiry/,
    );
    expect(denied("TOKEN_EXPIRED", null), "token_expired", /^the token expired\.$/, /get a new token/);
  });

  test("token_not_yet_valid: nbf ahead of this machine's clock, or only of the server's", () => {
    expect(
      denied("TOKEN_NOT_YET_VALID", token({ nbf: now + 600, notBeforeInSeconds: 600 })),
      "token_not_yet_valid",
      /nbf is 10 min ahead of this machine's clock \(nbf 2027-01-15T08:10:00\.000Z\)/,
      /clockToleranceSeconds/,
    );
    expect(
      denied("TOKEN_NOT_YET_VALID", token({ nbf: now - 5, notBeforeInSeconds: -5 })),
      "token_not_yet_valid",
      /by the server's clock/,
      /synchronize their clocks/,
    );
  });

  test("invalid_audience and invalid_issuer name what the token says", () => {
    expect(
      denied("INVALID_AUDIENCE", token({ aud: ["billing", "ledger"] })),
      "invalid_audience",
      /aud: billing ledger/,
      /createJwtAuthenticator\(\{ audience \}\)/,
    );
    expect(denied("INVALID_AUDIENCE", token({ aud: [] })), "invalid_audience", /aud: none/, /audience/);
    expect(
      denied("INVALID_ISSUER", token({ iss: "https://staging.test" })),
      "invalid_issuer",
      /iss: https:\/\/staging\.test/,
      /trailing slash included/,
    );
  });

  test("unknown_key: INVALID_TOKEN with detail unknown_key", () => {
    expect(
      invalid("unknown_key", token({ kid: "other-7" })),
      "unknown_key",
      /a key the server does not know \(kid: other-7\)/,
      /rotated its keys/,
    );
  });

  test("invalid_token: one row per detail, and the generic one", () => {
    expect(
      invalid("lifetime", token({ exp: now + 172800 })),
      "invalid_token",
      /valid for longer than the server accepts \(2 days from iat to exp\)/,
      /maxLifetimeSeconds: 172800 \}/,
    );
    expect(
      invalid("lifetime", token({ iat: undefined, nbf: now, exp: now + 90000 })),
      "invalid_token",
      /\(25 h from nbf to exp\)/,
      /maxLifetimeSeconds: 90000/,
    );
    expect(
      invalid("lifetime", token({ exp: undefined })),
      "invalid_token",
      /longer than the server accepts\.$/,
      /createJwtAuthenticator\(\{ maxLifetimeSeconds \}\)/,
    );
    expect(
      invalid("algorithm", token({ alg: "HS256" })),
      "invalid_token",
      /its algorithm \(HS256\) is not allowed/,
      /signing algorithm \(HS256\)/,
    );
    expect(
      invalid("key_type", token({ alg: "RS256" })),
      "invalid_token",
      /\(RS256\) does not fit the server's key/,
      /createJwtAuthenticator\(\{ keys \}\)/,
    );
    expect(invalid("signature"), "invalid_token", /its signature does not verify/, /altered, or two issuers share a kid/);
    expect(invalid("too_large"), "invalid_token", /longer than the server accepts/, /maxTokenLength/);
    expect(invalid("typ", token({ typ: "JWT" })), "invalid_token", /its type \(typ: JWT\)/, /not an ID token/);
    expect(invalid("encrypted"), "invalid_token", /encrypted \(JWE\)/, /encrypted tokens are never accepted/);
    expect(invalid("nested"), "invalid_token", /a nested token/, /whatever the server's options/);
    expect(invalid("crit"), "invalid_token", /critical header extensions/, /whatever the server's options/);
    expect(invalid("embedded_key"), "invalid_token", /names its own key/, /whatever the server's options/);
    expect(invalid("claim_exp"), "invalid_token", /exp is not a number of seconds/, /finite NumericDate/);
    const opaque = token({
      isJwt: false,
      formatProblem: "not a JWT (three base64url parts, the middle one a JSON object): maybe an opaque token or an API key",
    });
    expect(invalid("format", opaque), "invalid_token", /rejected the token: format: not a JWT/, /complete, unaltered JWT/);
    expect(denied("INVALID_TOKEN"), "invalid_token", /^the server rejected the token: invalid\.$/, /complete, unaltered JWT/);
  });

  test("insufficient_scope: the missing scopes, the required and the granted", () => {
    expect(
      denied("INSUFFICIENT_SCOPE", token({ scopes: ["greet"] }), {}, ["admin", "greet"]),
      "insufficient_scope",
      /lacks the scope "admin" that .* \(required: admin greet; granted: greet\)/,
      /scope "admin greet"/,
    );
    expect(
      denied("INSUFFICIENT_SCOPE", token({ scopes: [] }), {}, ["a", "b"]),
      "insufficient_scope",
      /lacks the scopes "a b" .*granted: none/,
      /scope "a b"/,
    );
  });

  test("claims_rejected: a method without a rule (no_rule), or claims that do not match", () => {
    expect(
      denied("CLAIMS_REJECTED", token(), { detail: "no_rule" }),
      "claims_rejected",
      /has no auth rule, and the server denies such methods by default/,
      /connectauth audit lists methods without one/,
    );
    expect(
      denied("CLAIMS_REJECTED"),
      "claims_rejected",
      /claims do not satisfy the rule of example\.v1\.GreeterService\/Greet/,
      /against the token's claims/,
    );
  });

  test("invalid_api_key, invalid_client_certificate and keys_unavailable", () => {
    expect(denied("INVALID_API_KEY", null), "invalid_api_key", /API key is not known/, /current API key/);
    expect(denied("INVALID_CLIENT_CERTIFICATE", null), "invalid_client_certificate", /TLS client certificate/, /SPIFFE ID/);
    expect(denied("KEYS_UNAVAILABLE"), "keys_unavailable", /a server-side outage, not your token/, /not refresh their token/);
  });

  test("revocation_unavailable and replay_store_unavailable", () => {
    expect(denied("REVOCATION_UNAVAILABLE"), "revocation_unavailable", /whether tokens are revoked/, /not refresh their token/);
    expect(denied("REPLAY_STORE_UNAVAILABLE"), "replay_store_unavailable", /check DPoP proofs for replay/, /reach its Redis/);
  });
});

// --- DPoP ---

const keyJkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
const otherJkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
const withKey: DpopFacts = { keyJkt, tokenJkt: keyJkt, nonceRetried: false };
const asBearer: DpopFacts = { keyJkt: null, tokenJkt: keyJkt, nonceRetried: false };
/** A refusal as a DPoP server sends it (a DPoP challenge with its algs), judged with these DPoP facts. */
const dpopDenied = (reason: Reason, detail: string | undefined, dpop: DpopFacts = withKey) =>
  callVerdict({
    ...answered(
      createAuthError(reason, {
        realm: "greeter",
        metadata: detail === undefined ? {} : { detail },
        schemes: ["DPoP"],
        dpopAlgorithms: ["ES256", "EdDSA"],
      }),
    ),
    dpop,
  });
const proofRefused = (detail: string | undefined, dpop?: DpopFacts) => dpopDenied("INVALID_DPOP_PROOF", detail, dpop);

suite("callVerdict() with DPoP", () => {
  test("ok: a call that passed with a proof names the key, and a nonce followed", () => {
    expect(
      callVerdict({ ...answered(undefined), dpop: withKey }),
      "ok",
      new RegExp(`^the call passed auth with DPoP \\(a proof signed by the key ${keyJkt}\\) and the handler answered OK\\.$`),
      /^$/,
    );
    expect(
      callVerdict({ ...answered(undefined), dpop: { ...withKey, nonceRetried: true } }),
      "ok",
      /, with the server's nonce\)/,
      /^$/,
    );
    expect(
      callVerdict({ ...answered(undefined), dpop: asBearer }),
      "ok",
      /^the call passed auth and the handler answered OK\.$/,
      /^$/,
    );
  });

  test("invalid_token: dpop_required and dpop_bound say how to send DPoP, and how to get a bound token", () => {
    expect(
      dpopDenied("INVALID_TOKEN", "dpop_required", asBearer),
      "invalid_token",
      /takes tokens only with DPoP, and it came as "Authorization: Bearer"/,
      /^send it with DPoP .*--dpop-key <private JWK file> here.*createDpopProver\(\{ keyPair \}\)/,
    );
    expect(
      dpopDenied("INVALID_TOKEN", "dpop_required", { keyJkt: null, tokenJkt: null, nonceRetried: false }),
      "invalid_token",
      /only with DPoP/,
      /^get a token bound to the key: .*createOAuth2TokenSource\(\{ dpop \}\).*token mint --jkt <its thumbprint>; then send it with DPoP/,
    );
    expect(
      dpopDenied("INVALID_TOKEN", "dpop_bound", asBearer),
      "invalid_token",
      new RegExp(`bound to a DPoP key \\(cnf\\.jkt ${keyJkt}\\) and came as Bearer.*a stolen one is useless`),
      /--dpop-key <private JWK file>/,
    );
  });

  test("invalid_dpop_proof: one row per detail of the server", () => {
    const rows: [string, RegExp, RegExp][] = [
      ["missing", /came as "Authorization: DPoP" without a DPoP header/, /Access-Control-Allow-Headers: DPoP/],
      ["multiple", /more than one DPoP header/, /one DPoP header per request/],
      ["format", /not a compact JWS/, /header\.payload\.signature/],
      ["typ", /its typ is not "dpop\+jwt"/, /typ to "dpop\+jwt"/],
      ["alg", /not one the server takes \(it takes ES256 EdDSA\)/, /challenge \(ES256 EdDSA\).*dpop: \{ algorithms \}/],
      ["jwk", /jwk header is not a public key/, /public members only/],
      ["signature", /signature does not verify with the key in its jwk header/, /private key whose public key/],
      ["jti", /no usable jti/, /new random jti/],
      ["htm", /htm is not the request's HTTP method/, /POST for Connect, gRPC and gRPC-web.*useHttpGet/],
      ["htu", /htu is not the URL/, /then \/example\.v1\.GreeterService\/Greet\).*publicOrigin/],
      ["iat", /iat is too far from the server's clock/, /iatWindowSeconds \} \}\) \(default 60\) plus its clockToleranceSeconds/],
      ["ath", /ath is not the hash of the token/, /base64url\(SHA-256\(token\)\)/],
      ["nonce", /nonce is not one the server issued/, /last DPoP-Nonce header/],
      ["jti_replay", /seen this proof before \(its jti was replayed\)/, /new proof for every request, retries included/],
    ];
    for (const [detail, summary, fix] of rows) expect(proofRefused(detail), "invalid_dpop_proof", summary, fix);
    expect(
      proofRefused("jkt", { keyJkt, tokenJkt: otherJkt, nonceRetried: false }),
      "invalid_dpop_proof",
      new RegExp(`bound to the key ${otherJkt} \\(cnf\\.jkt\\), and the proof was signed by ${keyJkt}`),
      new RegExp(`key the token was issued for, or get a token bound to the key: .*--jkt ${keyJkt}\\.$`),
    );
    expect(
      proofRefused("jkt", { keyJkt, tokenJkt: null, nonceRetried: false }),
      "invalid_dpop_proof",
      /the token is bound to no key \(no cnf\.jkt\), so no proof can prove it/,
      new RegExp(`--jkt ${keyJkt}\\.$`),
    );
    expect(
      proofRefused("jkt", { keyJkt: null, tokenJkt: null, nonceRetried: false }),
      "invalid_dpop_proof",
      /not bound to the key that signed the proof/,
      /--jkt <its thumbprint>/,
    );
    expect(
      proofRefused("something_new"),
      "invalid_dpop_proof",
      /refused the DPoP proof \(check: something_new\)\.$/,
      /one fresh DPoP proof per call/,
    );
    expect(
      denied("INVALID_DPOP_PROOF"),
      "invalid_dpop_proof",
      /^the server refused the DPoP proof\.$/,
      /one fresh DPoP proof per call/,
    );
  });

  test("use_dpop_nonce: asked for, or asked for again after the nonce was followed", () => {
    expect(denied("USE_DPOP_NONCE"), "use_dpop_nonce", /carry its nonce/, /DPoP-Nonce header and retry once/);
    expect(
      dpopDenied("USE_DPOP_NONCE", "nonce", { ...withKey, nonceRetried: true }),
      "use_dpop_nonce",
      /asked for a nonce again after the call was made with the nonce it had sent/,
      /do not share a nonce secret.*--dpop-nonce-secret/,
    );
  });
});

suite("callVerdict() without a connectauth reason", () => {
  test("failures without a connectauth reason: method_not_found, auth_failure_without_details, call_failed", () => {
    const other = (code: Code, message: string, challenge?: string) => {
      const error = new ConnectError(message, code);
      if (challenge !== undefined) error.metadata.set("www-authenticate", challenge);
      return callVerdict(answered(error));
    };
    expect(
      other(Code.Unimplemented, "no such method"),
      "method_not_found",
      /does not serve example\.v1\.GreeterService\/Greet/,
      /case matters/,
    );
    expect(
      other(Code.Unauthenticated, "gateway says no", 'Bearer realm="edge"'),
      "auth_failure_without_details",
      /^Unauthenticated without a connectauth reason \(challenge: Bearer realm="edge"\): "gateway says no"\.$/,
      /does not come from connectauth/,
    );
    expect(
      other(Code.PermissionDenied, "nope"),
      "auth_failure_without_details",
      /^PermissionDenied without a connectauth reason: "nope"\.$/,
      /in front of the service/,
    );
    expect(
      other(Code.Unavailable, "down"),
      "call_failed",
      /^the call failed with Unavailable \(14\), not an auth failure: "down"\.$/,
      /check the server's logs/,
    );
    expect(other(Code.Unknown, "boom"), "call_failed", /Unknown \(2\)/, /check the server's logs/);
    expect(other(Code.InvalidArgument, "bad request"), "call_failed", /InvalidArgument \(3\)/, /look at the handler/);
  });

  test("an ErrorInfo reason that is not core's is judged by its code alone", () => {
    const info = create(ErrorInfoSchema, { reason: "SOME_NEWER_REASON", domain: "connectauth", metadata: { detail: "x" } });
    const s = answered(new ConnectError("denied", Code.PermissionDenied, undefined, [{ desc: ErrorInfoSchema, value: info }]));
    assert.equal(s.call.reason, undefined);
    assert.deepEqual(s.call.metadata, {});
    expect(callVerdict(s), "auth_failure_without_details", /PermissionDenied without a connectauth reason/, /connectauth/);
  });
});

// --- health ---

const health = (more: Partial<HealthFacts>): HealthFacts => ({
  status: "NOT_SERVING",
  service: "example.v1.GreeterService",
  serviceStatus: "NOT_SERVING",
  error: null,
  readiness: [],
  ...more,
});
const auth = (name: string, word: string) => ({ kind: "auth" as const, name, word });

suite("healthVerdict()", () => {
  test("server_not_ready: the keys, by authenticator and word, before the revocation list and the checks", () => {
    expect(
      healthVerdict(health({ readiness: [auth("jwt", "network"), auth("partner", "ready"), auth("b2b", "not_fetched")] })),
      "server_not_ready",
      /^the server cannot reach its keys \(grpc\.health\.v1 says NOT_SERVING\): jwt: network \(the JWKS request failed before any answer: refused, reset or DNS\); b2b: not_fetched \(not fetched yet\)\.$/,
      /reach its JWKS URL.*retry later/,
    );
    expect(
      healthVerdict(health({ readiness: [auth("jwt", "mine_down")] })),
      "server_not_ready",
      /its keys .*: jwt: mine_down\.$/,
      /JWKS/,
    );
    expect(
      healthVerdict(
        health({ readiness: [auth("jwt", "revocation_unreachable"), { kind: "check", name: "db", word: "failed" }] }),
      ),
      "server_not_ready",
      /^the server's revocation list is not caught up .*: jwt: revocation_unreachable\.$/,
      /Redis/,
    );
    expect(
      healthVerdict(health({ readiness: [auth("jwt", "ready"), { kind: "check", name: "db", word: "failed" }] })),
      "server_not_ready",
      /^the server's own health checks fail \(grpc\.health\.v1 says NOT_SERVING\): db\.$/,
      /checks/,
    );
  });

  test("server_not_ready without the readiness header (another server, or readinessHeader: false), overall or for the service", () => {
    expect(healthVerdict(health({})), "server_not_ready", /^the server says it is not ready/, /auth\.status\(\)/);
    expect(
      healthVerdict(health({ status: "SERVING", serviceStatus: "NOT_SERVING" })),
      "server_not_ready",
      /not ready/,
      /depends on/,
    );
  });

  test("ok when SERVING (the service too when it is listed); nothing to judge otherwise", () => {
    expect(
      healthVerdict(health({ status: "SERVING", serviceStatus: "SERVING" })),
      "ok",
      /for example\.v1\.GreeterService too/,
      /^$/,
    );
    expect(healthVerdict(health({ status: "SERVING", serviceStatus: null })), "ok", /SERVING\)\.$/, /^$/);
    assert.equal(healthVerdict(health({ status: null, serviceStatus: null, error: "Unimplemented" })), undefined);
    assert.equal(healthVerdict(health({ status: "UNKNOWN", serviceStatus: null })), undefined);
  });
});

test("every verdict of the list has a case above", () => {
  assert.deepEqual(
    verdicts.filter((id) => !judged.has(id)),
    [],
    "verdicts without a unit test",
  );
});
