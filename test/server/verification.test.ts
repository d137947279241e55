// Every reason path of the server gate and the bad-input classes of RFC 8725, over the wire: the example
// Greeter server on 127.0.0.1 with a JWT authenticator (local JWKS, typ at+jwt, max age and lifetime,
// a 4 KiB token cap) and an API-key authenticator, called over Connect, gRPC and gRPC-web. Each refusal
// asserts the code, the reason, the diagnostic detail and that the credential is not echoed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { CompactEncrypt, SignJWT, type JWTPayload } from "jose";
import { createApiKeyAuthenticator, createJwtAuthenticator, hashApiKey } from "@connectauth/server";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { type KeyServer, startKeyServer } from "../support/key-server.js";
import { type TestSigner, b64url, createTestSigner } from "../support/tokens.js";
import {
  type Protocol,
  type RawHeaders,
  assertNotEchoed,
  assertRefused,
  bearer,
  protocols,
  rawClient,
  refusal,
} from "../support/wire.js";

const apiKey = `k_test_${"7".repeat(40)}`;
let server: ExampleServer;
let signer: TestSigner;
let keyServer: KeyServer;
let iss: string;

before(async () => {
  signer = await createTestSigner("k1");
  keyServer = await startKeyServer(signer.jwks);
  const sha256 = await hashApiKey(apiKey);
  server = await startExampleServer({
    auth: {
      kind: "authenticators",
      authenticators: (dev) => [
        createJwtAuthenticator({
          issuer: dev.issuer,
          audience: "greeter",
          algorithms: ["ES256"],
          keys: { keys: [...dev.jwks.keys, ...signer.jwks.keys] },
          typ: "at+jwt",
          maxTokenAgeSeconds: 3600,
          maxLifetimeSeconds: 86400,
          maxTokenLength: 4096,
        }),
        createApiKeyAuthenticator({ keys: [{ sha256, subject: "billing-job", scopes: ["greet"] }] }),
      ],
    },
  });
  iss = server.url;
});
after(async () => {
  await server.close();
  await keyServer.close();
});

const nowS = () => Math.floor(Date.now() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss, aud: "greeter", sub: "alice", scope: "greet", ...extra });
const rawClaims = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ iss, aud: "greeter", sub: "alice", scope: "greet", iat: nowS(), exp: nowS() + 300, ...extra });
const header = (extra: Record<string, unknown> = {}) => ({ alg: "ES256", kid: "k1", typ: "at+jwt", ...extra });

interface Case {
  readonly name: string;
  readonly token: () => Promise<string>;
  readonly reason: string;
  readonly detail?: string;
  readonly code?: Code;
}

// RFC 8725 classes and every token reason. Each runs over one protocol (in turn), a few over all three.
const cases: Case[] = [
  // §2.1 / §3.1: algorithm confusion and "none".
  {
    name: 'alg "none", no signature',
    token: async () => `${b64url(JSON.stringify({ alg: "none", typ: "at+jwt" }))}.${b64url(rawClaims())}.`,
    reason: "INVALID_TOKEN",
    detail: "algorithm",
  },
  {
    name: "HS256 signed with the public key as the HMAC secret",
    token: async () =>
      new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", kid: "k1", typ: "at+jwt" })
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(JSON.stringify(signer.jwks.keys[0]))),
    reason: "INVALID_TOKEN",
    detail: "algorithm",
  },
  {
    name: "an allowed key with an algorithm not allowed (RS256)",
    token: async () => await signer.signRaw(header({ alg: "RS256" }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "algorithm",
  },
  // §3.10 header-supplied keys: refused before any fetch.
  {
    name: "jwk in the header",
    token: () => signer.signRaw(header({ jwk: signer.jwks.keys[0] }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "embedded_key",
  },
  {
    name: "jku in the header",
    token: () => signer.signRaw(header({ jku: "" }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "embedded_key",
  },
  {
    name: "x5u in the header",
    token: () => signer.signRaw(header({ x5u: "https://example.com/x" }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "embedded_key",
  },
  {
    name: "x5c in the header",
    token: () => signer.signRaw(header({ x5c: ["MIIB"] }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "embedded_key",
  },
  // crit
  {
    name: "crit naming a claim",
    token: () => signer.signRaw(header({ crit: ["exp"] }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "crit",
  },
  {
    name: "crit naming an unknown extension",
    token: () => signer.signRaw(header({ crit: ["x-ext"], "x-ext": 1 }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "crit",
  },
  // JWE and nesting
  {
    name: "a JWE (five segments)",
    token: () =>
      new CompactEncrypt(new TextEncoder().encode(rawClaims()))
        .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
        .encrypt(new Uint8Array(32).fill(7)),
    reason: "INVALID_TOKEN",
    detail: "encrypted",
  },
  {
    name: "a nested JWT (cty JWT)",
    token: () => signer.signRaw(header({ cty: "JWT" }), rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "nested",
  },
  // Malformed segments
  {
    name: "two segments",
    token: async () => `${b64url(JSON.stringify(header()))}.${b64url(rawClaims())}`,
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  {
    name: "four segments",
    token: async () => `${await signer.signRaw(header(), rawClaims())}.abc`,
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  {
    name: "a header that is not JSON",
    token: async () => `${b64url("{alg")}.${b64url(rawClaims())}.c2ln`,
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  {
    name: "a header that is a JSON array",
    token: async () => `${b64url('["ES256"]')}.${b64url(rawClaims())}.c2ln`,
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  {
    name: "an empty header segment",
    token: async () => `.${b64url(rawClaims())}.c2ln`,
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  {
    name: "a payload that is not JSON",
    token: () => signer.signRaw(header(), "not json"),
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  {
    name: "a payload that is a JSON array",
    token: () => signer.signRaw(header(), "[1,2]"),
    reason: "INVALID_TOKEN",
    detail: "format",
  },
  // Signature and keys
  {
    name: "a payload changed after signing",
    token: async () => {
      const [h, , sig] = (await signer.sign(claims())).split(".");
      return `${h}.${b64url(rawClaims({ scope: "greet admin" }))}.${sig}`;
    },
    reason: "INVALID_TOKEN",
    detail: "signature",
  },
  {
    name: "an unknown kid",
    token: () => signer.sign(claims(), { kid: "nobody" }),
    reason: "INVALID_TOKEN",
    detail: "unknown_key",
  },
  {
    name: "a token over the 4 KiB cap",
    token: () => signer.sign(claims({ pad: "x".repeat(5000) })),
    reason: "INVALID_TOKEN",
    detail: "too_large",
  },
  // typ (§3.11)
  {
    name: 'typ "JWT" where at+jwt is required',
    token: () => signer.sign(claims(), { typ: "JWT" }),
    reason: "INVALID_TOKEN",
    detail: "typ",
  },
  {
    name: "no typ where at+jwt is required",
    token: () => signer.signRaw({ alg: "ES256", kid: "k1" }, rawClaims()),
    reason: "INVALID_TOKEN",
    detail: "typ",
  },
  // Claim types
  {
    name: "exp as a string",
    token: () => signer.signRaw(header(), rawClaims({ exp: "tomorrow" })),
    reason: "INVALID_TOKEN",
    detail: "claim_exp",
  },
  {
    name: "exp of 1e400 (Infinity)",
    token: () => signer.signRaw(header(), rawClaims().replace(/"exp":\d+/, '"exp":1e400')),
    reason: "INVALID_TOKEN",
    detail: "claim_exp",
  },
  {
    name: "no exp",
    token: () => signer.signRaw(header(), rawClaims({ exp: undefined })),
    reason: "INVALID_TOKEN",
    detail: "claim_exp",
  },
  {
    name: "nbf as a string",
    token: () => signer.signRaw(header(), rawClaims({ nbf: "now" })),
    reason: "INVALID_TOKEN",
    detail: "claim_nbf",
  },
  {
    name: "iat as a string (max age set)",
    token: () => signer.signRaw(header(), rawClaims({ iat: "now" })),
    reason: "INVALID_TOKEN",
    detail: "claim_iat",
  },
  {
    name: "iss as a number",
    token: () => signer.signRaw(header(), rawClaims({ iss: 42 })),
    reason: "INVALID_ISSUER",
    detail: "iss",
  },
  {
    name: "aud as a number",
    token: () => signer.signRaw(header(), rawClaims({ aud: 42 })),
    reason: "INVALID_AUDIENCE",
    detail: "aud",
  },
  // Time
  {
    name: "expired an hour ago",
    token: () => signer.sign(claims({ iat: nowS() - 7200, exp: nowS() - 3600 })),
    reason: "TOKEN_EXPIRED",
    detail: "exp",
  },
  {
    name: "issued longer ago than the max age",
    token: () => signer.sign(claims({ iat: nowS() - 7200, exp: nowS() + 300 })),
    reason: "TOKEN_EXPIRED",
    detail: "max_age",
  },
  {
    name: "not valid for another hour (nbf)",
    token: () => signer.sign(claims({ nbf: nowS() + 3600 })),
    reason: "TOKEN_NOT_YET_VALID",
    detail: "nbf",
  },
  {
    name: "iat in the future (max age set)",
    token: () => signer.sign(claims({ iat: nowS() + 3600, exp: nowS() + 4000 })),
    reason: "TOKEN_NOT_YET_VALID",
    detail: "iat",
  },
  {
    name: "a lifetime of two days",
    token: () => signer.sign(claims({ exp: nowS() + 2 * 86400 })),
    reason: "INVALID_TOKEN",
    detail: "lifetime",
  },
  // Audience and issuer edge cases
  { name: "another audience", token: () => signer.sign(claims({ aud: "other" })), reason: "INVALID_AUDIENCE", detail: "aud" },
  {
    name: "an audience list without ours",
    token: () => signer.sign(claims({ aud: ["a", "b"] })),
    reason: "INVALID_AUDIENCE",
    detail: "aud",
  },
  {
    name: "an empty audience",
    token: () => signer.signRaw(header(), rawClaims({ aud: "" })),
    reason: "INVALID_AUDIENCE",
    detail: "aud",
  },
  {
    name: "an audience that only starts like ours",
    token: () => signer.sign(claims({ aud: "greeter-admin" })),
    reason: "INVALID_AUDIENCE",
    detail: "aud",
  },
  {
    name: "no audience",
    token: () => signer.signRaw(header(), rawClaims({ aud: undefined })),
    reason: "INVALID_AUDIENCE",
    detail: "aud",
  },
  {
    name: "the issuer with a trailing slash",
    token: () => signer.sign(claims({ iss: `${iss}/` })),
    reason: "INVALID_ISSUER",
    detail: "iss",
  },
  {
    name: "the issuer in upper case",
    token: () => signer.sign(claims({ iss: iss.toUpperCase() })),
    reason: "INVALID_ISSUER",
    detail: "iss",
  },
  {
    name: "no issuer",
    token: () => signer.signRaw(header(), rawClaims({ iss: undefined })),
    reason: "INVALID_ISSUER",
    detail: "iss",
  },
];

const threeProtocolSample = new Set([
  'alg "none", no signature',
  "jku in the header",
  "a JWE (five segments)",
  "expired an hour ago",
]);

describe("bad tokens (RFC 8725 classes), over the wire", () => {
  cases.forEach((c, i) => {
    const over: readonly Protocol[] = threeProtocolSample.has(c.name) ? protocols : [protocols[i % protocols.length]!];
    test(`${c.name} → ${c.reason} (${over.join(", ")})`, async () => {
      const token = await c.token();
      for (const protocol of over) {
        const error = await refusal(server.url, protocol, bearer(token));
        assertRefused(error, { code: c.code ?? Code.Unauthenticated, reason: c.reason, detail: c.detail }, [token], protocol);
        assert.match(error.metadata.get("www-authenticate") ?? "", /error="invalid_token"/);
      }
    });
  });

  test("header-supplied key URLs are never fetched", async () => {
    const before = { ...keyServer.requests };
    const token = await signer.signRaw(header({ jku: `${keyServer.url}/jwks.json`, kid: "fresh" }), rawClaims());
    const x5u = await signer.signRaw(header({ x5u: `${keyServer.url}/cert.pem` }), rawClaims());
    for (const t of [token, x5u]) {
      assertRefused(
        await refusal(server.url, "grpc", bearer(t)),
        { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "embedded_key" },
        [t],
      );
    }
    assert.deepEqual(keyServer.requests, before);
  });
});

describe("accepted tokens, over the wire", () => {
  const accepted: { name: string; token: () => Promise<string> }[] = [
    { name: "a plain valid token", token: () => signer.sign(claims()) },
    { name: 'typ "application/at+jwt"', token: () => signer.sign(claims(), { typ: "application/at+jwt" }) },
    { name: "an audience list with ours", token: () => signer.sign(claims({ aud: ["other", "greeter"] })) },
    { name: "expired 10 s ago, within the clock tolerance", token: () => signer.sign(claims({ exp: nowS() - 10 })) },
    {
      name: "a token of the example's own dev issuer",
      token: () => server.devIssuer!.mint({ subject: "alice", scopes: ["greet"] }),
    },
  ];
  for (const a of accepted) {
    test(`${a.name}: accepted on every protocol`, async () => {
      const token = await a.token();
      for (const protocol of protocols) {
        const me = await rawClient(server.url, protocol, bearer(token)).whoAmI({});
        assert.deepEqual([me.subject, me.authenticator], ["alice", "jwt"], protocol);
      }
    });
  }
});

test("scopes: scp may be an array, scope only a space-delimited string (RFC 9068 §2.2.3)", async () => {
  const scp = await signer.sign(claims({ scope: undefined, scp: ["greet", "admin"] }));
  const both = await signer.sign(claims({ scope: ["admin"], scp: "greet" }));
  for (const protocol of protocols) {
    assert.deepEqual((await rawClient(server.url, protocol, bearer(scp)).whoAmI({})).scopes.sort(), ["admin", "greet"]);
    assert.deepEqual((await rawClient(server.url, protocol, bearer(both)).whoAmI({})).scopes, ["greet"], protocol);
    const error = await refusal(server.url, protocol, bearer(both), "admin");
    assertRefused(error, { code: Code.PermissionDenied, reason: "INSUFFICIENT_SCOPE" }, [both], protocol);
  }
});

describe("credential reasons, over the wire", () => {
  const refusals: {
    name: string;
    headers: () => Promise<RawHeaders>;
    reason: string;
    code?: Code;
    method?: "admin";
    secret?: string;
  }[] = [
    { name: "no credential", headers: async () => ({}), reason: "MISSING_CREDENTIALS" },
    { name: '"Bearer" alone', headers: async () => ({ authorization: "Bearer" }), reason: "MALFORMED_CREDENTIALS" },
    { name: "a token with a space", headers: async () => ({ authorization: "Bearer abc def" }), reason: "MALFORMED_CREDENTIALS" },
    {
      name: "an unknown scheme (RFC 6750 §3.1: no credential of ours)",
      headers: async () => ({ authorization: `Token ${apiKey}` }),
      reason: "MISSING_CREDENTIALS",
      secret: apiKey,
    },
    {
      name: "a bearer token and an API key",
      headers: async () => ({ ...bearer(await signer.sign(claims())), "x-api-key": apiKey }),
      reason: "MULTIPLE_CREDENTIALS",
      secret: apiKey,
    },
    {
      name: "two Authorization values",
      headers: async () => ({ authorization: [`Bearer ${await signer.sign(claims())}`, "Bearer abc"] }),
      reason: "MULTIPLE_CREDENTIALS",
    },
    {
      name: "two API keys",
      headers: async () => ({ "x-api-key": [apiKey, "k_other"] }),
      reason: "MULTIPLE_CREDENTIALS",
      secret: apiKey,
    },
    {
      name: "an unknown API key",
      headers: async () => ({ "x-api-key": "k_test_wrong" }),
      reason: "INVALID_API_KEY",
      secret: "k_test_wrong",
    },
    { name: "a malformed API key", headers: async () => ({ "x-api-key": "k test" }), reason: "MALFORMED_CREDENTIALS" },
    {
      name: "a token lacking a scope",
      headers: async () => bearer(await signer.sign(claims())),
      reason: "INSUFFICIENT_SCOPE",
      code: Code.PermissionDenied,
      method: "admin",
    },
    {
      name: "a scope claim that is an array, not a string (RFC 9068 §2.2.3): grants nothing",
      headers: async () => bearer(await signer.sign(claims({ scope: ["greet"] }))),
      reason: "INSUFFICIENT_SCOPE",
      code: Code.PermissionDenied,
    },
  ];
  refusals.forEach((r, i) => {
    const over: readonly Protocol[] = i < 2 ? protocols : [protocols[i % protocols.length]!];
    test(`${r.name} → ${r.reason} (${over.join(", ")})`, async () => {
      const headers = await r.headers();
      const secrets = [
        ...Object.values(headers)
          .flat()
          .map((v) => v.replace(/^Bearer /, ""))
          .filter((v) => v.length > 12),
        ...(r.secret ? [r.secret] : []),
      ];
      for (const protocol of over) {
        const error = await refusal(server.url, protocol, headers, r.method ?? "greet");
        assertRefused(error, { code: r.code ?? Code.Unauthenticated, reason: r.reason }, secrets, protocol);
      }
    });
  });

  test("an API key: accepted with its identity; refused without a Bearer challenge", async () => {
    for (const protocol of protocols) {
      const me = await rawClient(server.url, protocol, { "x-api-key": apiKey }).whoAmI({});
      assert.deepEqual([me.subject, me.scopes, me.authenticator], ["billing-job", ["greet"], "api-key"]);
      const error = await refusal(server.url, protocol, { "x-api-key": `${apiKey}x` });
      assertRefused(error, { code: Code.Unauthenticated, reason: "INVALID_API_KEY" }, [apiKey]);
      assert.equal(error.metadata.get("www-authenticate"), null);
    }
  });

  test("a token in the query string is never read", async () => {
    const token = await signer.sign(claims());
    const response = await fetch(`${server.url}/example.v1.GreeterService/Greet?access_token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const body = await response.text();
    assert.equal(response.status, 401);
    assert.match(body, /MISSING_CREDENTIALS|unauthenticated/);
    assert.ok(!body.includes(token) && !body.includes(token.split(".")[1]!));
    assert.ok(!(response.headers.get("www-authenticate") ?? "").includes(token.split(".")[2]!));
  });

  test("a token rejected once is rejected again (nothing negative is cached wrongly), a good one stays good", async () => {
    const good = await signer.sign(claims());
    const bad = await signer.sign(claims({ aud: "other" }));
    for (let i = 0; i < 3; i++) {
      assert.equal((await rawClient(server.url, "grpc", bearer(good)).whoAmI({})).subject, "alice");
      const error = await refusal(server.url, "grpc", bearer(bad));
      assertRefused(error, { code: Code.Unauthenticated, reason: "INVALID_AUDIENCE" }, [bad]);
      assertNotEchoed(error, [good]);
    }
  });
});
