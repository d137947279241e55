// The interceptor with a DPoP prover, in memory (createRouterTransport): the server here checks each proof
// with jose as RFC 9449 says (signature by the embedded jwk, typ, htm, htu, ath) and plays the nonce game
// (DPoP-Nonce on answers, USE_DPOP_NONCE when the proof lacks the current one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, createClient, createRouterTransport } from "@connectrpc/connect";
import { Reason, createAuthError, tokenHash } from "@connectauth/core";
import { EmbeddedJWK, type JWK, type JWTPayload, calculateJwkThumbprint, jwtVerify } from "jose";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { type AuthInterceptorOptions, createAuthInterceptor } from "./auth-interceptor.js";
import { createCachedTokenSource } from "./cached-token-source.js";
import { readAuthFailure } from "./index.js";
import type { ClientAuthEvent } from "./client-auth-event.js";
import { type DpopProver, createDpopProver } from "./dpop.js";

const baseUrl = "https://api.test";
const keyPair = () =>
  crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]) as Promise<CryptoKeyPair>;

/** One request as the server saw it: its credential, and its proof's claims (checked) and key. */
interface Seen {
  readonly authorization: string | null;
  readonly claims: JWTPayload | undefined;
  readonly jkt: string | undefined;
}

interface ServerOptions {
  /** Refuse proofs without the current nonce (USE_DPOP_NONCE). */
  requireNonce?: boolean;
  /** The nonce it tells is stale at once (a server that accepts none). */
  neverAccept?: boolean;
  /** A nonce is good for one proof: once accepted, the next one is due (and told only on a refusal). */
  singleUseNonces?: boolean;
  /** Answer USE_DPOP_NONCE without a DPoP-Nonce header. */
  withholdNonce?: boolean;
  /** Tokens refused with TOKEN_EXPIRED. */
  expired?: Set<string>;
  /** Send the current nonce as a response header ("header") or trailer ("trailer") of every success. */
  nonceOnSuccess?: "header" | "trailer";
}

/** A server that checks each call's DPoP proof as RFC 9449 §4.3 says, and records what it saw. */
function dpopServer(options: ServerOptions = {}) {
  const seen: Seen[] = [];
  let round = 1;
  let current = "nonce-1";
  const check = async (ctx: HandlerContext) => {
    const authorization = ctx.requestHeader.get("authorization");
    const proof = ctx.requestHeader.get("dpop");
    if (proof === null) {
      seen.push({ authorization, claims: undefined, jkt: undefined });
      return;
    }
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: ["ES256"] });
    seen.push({ authorization, claims: payload, jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK) });
    const token = (authorization ?? "").replace(/^DPoP /, "");
    const url = new URL(ctx.url);
    assert.equal(payload.htm, ctx.requestMethod, "htm is the request's method");
    assert.equal(payload["htu"], `${url.origin}${url.pathname}`, "htu is the URL without query");
    assert.equal(payload["ath"], createHash("sha256").update(token).digest("base64url"), "ath is the token's hash");
    if (options.requireNonce && payload["nonce"] !== current) {
      const told = current;
      if (options.neverAccept) current = `nonce-${++round}`;
      throw createAuthError(Reason.UseDpopNonce, options.withholdNonce ? {} : { dpopNonce: told });
    }
    if (options.requireNonce && options.singleUseNonces) current = `nonce-${++round}`;
    if (options.expired?.has(token)) throw createAuthError(Reason.TokenExpired);
    if (options.nonceOnSuccess !== undefined) {
      current = `nonce-${++round}`;
      (options.nonceOnSuccess === "header" ? ctx.responseHeader : ctx.responseTrailer).set("dpop-nonce", current);
    }
  };
  const routes = (router: Parameters<Parameters<typeof createRouterTransport>[0]>[0]) =>
    router.service(GreeterService, {
      greet: async (req, ctx) => {
        await check(ctx);
        return { greeting: `hi ${req.name}` };
      },
      async *greetStream(req, ctx) {
        if (req.name !== "challenge-after-first") await check(ctx);
        for (let i = 1; i <= req.count; i++) {
          yield { greeting: `${i}` };
          if (req.name === "challenge-after-first") throw createAuthError(Reason.UseDpopNonce, { dpopNonce: "late" });
        }
      },
      async greetMany(reqs, ctx) {
        await check(ctx);
        let n = 0;
        for await (const _ of reqs) n++;
        return { greeting: `${n}` };
      },
      ping: async (_req, ctx) => {
        await check(ctx);
        return {};
      },
    });
  return { seen, routes };
}

function setup(server: ReturnType<typeof dpopServer>, options: AuthInterceptorOptions, transport: Record<string, unknown> = {}) {
  const events: ClientAuthEvent[] = [];
  const interceptor = createAuthInterceptor({ onEvent: (e) => events.push(e), ...options });
  const t = createRouterTransport(server.routes, { transport: { baseUrl, interceptors: [interceptor], ...transport } });
  return { client: createClient(GreeterService, t), events };
}

/** A caching source whose loads answer t1, t2, t3… */
function counting() {
  let n = 0;
  return createCachedTokenSource({ load: async () => `t${++n}` });
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail("expected a failure"),
    (e: unknown) => ConnectError.from(e),
  );

test("the scheme is DPoP, every call has a new proof of the call, bound to the prover's key", async () => {
  const dpop = createDpopProver({ keyPair: await keyPair() });
  const server = dpopServer();
  const { client } = setup(server, { token: "tok-1", dpop });
  await client.greet({ name: "a" });
  await client.greet({ name: "b" });
  assert.deepEqual(
    server.seen.map((s) => s.authorization),
    ["DPoP tok-1", "DPoP tok-1"],
  );
  const [first, second] = server.seen;
  assert.equal(first?.claims?.htm, "POST");
  assert.equal(first?.claims?.["htu"], `${baseUrl}/test.v1.GreeterService/Greet`);
  assert.equal(first?.jkt, await dpop.jkt());
  assert.notEqual(first?.claims?.jti, second?.claims?.jti);
});

test("bearer-only is unchanged: Bearer scheme and no DPoP header", async () => {
  const server = dpopServer();
  const { client } = setup(server, { token: "tok-1" });
  await client.greet({});
  assert.deepEqual(server.seen, [{ authorization: "Bearer tok-1", claims: undefined, jkt: undefined }]);
});

test("public methods get neither a token nor a proof", async () => {
  const server = dpopServer();
  const { client } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  await client.ping({});
  assert.deepEqual(server.seen, [{ authorization: null, claims: undefined, jkt: undefined }]);
});

test("nonces are remembered from successful answers, in headers and in trailers", async () => {
  for (const where of ["header", "trailer"] as const) {
    const server = dpopServer({ nonceOnSuccess: where });
    const { client } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
    await client.greet({});
    await client.greet({});
    for await (const _ of client.greetStream({ count: 1 }));
    await client.greet({});
    assert.deepEqual(
      server.seen.map((s) => s.claims?.["nonce"]),
      [undefined, "nonce-2", "nonce-3", "nonce-4"],
      where,
    );
  }
});

test("USE_DPOP_NONCE: exactly one retry, with the nonce and a new jti; later calls carry the nonce at once", async () => {
  const server = dpopServer({ requireNonce: true });
  const { client, events } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  assert.equal((await client.greet({ name: "a" })).greeting, "hi a");
  assert.deepEqual(
    server.seen.map((s) => [s.authorization, s.claims?.["nonce"]]),
    [
      ["DPoP tok-1", undefined],
      ["DPoP tok-1", "nonce-1"],
    ],
  );
  assert.notEqual(server.seen[0]?.claims?.jti, server.seen[1]?.claims?.jti);
  assert.deepEqual(events, [
    { type: "retry", procedure: "/test.v1.GreeterService/Greet", reason: "USE_DPOP_NONCE", tokenHash: await tokenHash("tok-1") },
  ]);
  await client.greet({});
  assert.equal(server.seen.length, 3, "no challenge once the nonce is known");
  assert.equal(server.seen[2]?.claims?.["nonce"], "nonce-1");
});

test("a second USE_DPOP_NONCE is the app's: two attempts, never three", async () => {
  const server = dpopServer({ requireNonce: true, neverAccept: true });
  const { client, events } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  const error = await failureOf(client.greet({}));
  assert.equal(error.code, Code.Unauthenticated);
  assert.equal(readAuthFailure(error)?.reason, "USE_DPOP_NONCE");
  assert.deepEqual(
    server.seen.map((s) => s.claims?.["nonce"]),
    [undefined, "nonce-1"],
  );
  assert.equal(events.filter((e) => e.type === "retry").length, 1);
});

test("USE_DPOP_NONCE without a nonce is not retried: a new proof could not pass", async () => {
  const server = dpopServer({ requireNonce: true, withholdNonce: true });
  const { client } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  assert.equal(readAuthFailure(await failureOf(client.greet({})))?.reason, "USE_DPOP_NONCE");
  assert.equal(server.seen.length, 1);
});

test("the nonce retry is on even with retryOnTokenRejection: false, which still stops the token retry", async () => {
  const server = dpopServer({ requireNonce: true, expired: new Set(["t1"]) });
  const { client } = setup(server, {
    token: counting(),
    retryOnTokenRejection: false,
    dpop: createDpopProver({ keyPair: await keyPair() }),
  });
  assert.equal(readAuthFailure(await failureOf(client.greet({})))?.reason, "TOKEN_EXPIRED");
  assert.deepEqual(
    server.seen.map((s) => [s.authorization, s.claims?.["nonce"]]),
    [
      ["DPoP t1", undefined],
      ["DPoP t1", "nonce-1"],
    ],
  );
});

test("with a token rejection: a new token gets a new proof (its ath); the nonce retry stays once per call", async () => {
  // Nonce, then the expired token: a nonce retry and a token retry, and the call succeeds.
  const server = dpopServer({ requireNonce: true, expired: new Set(["t1"]) });
  const { client, events } = setup(server, { token: counting(), dpop: createDpopProver({ keyPair: await keyPair() }) });
  assert.equal((await client.greet({ name: "x" })).greeting, "hi x");
  assert.deepEqual(
    server.seen.map((s) => [s.authorization, s.claims?.["nonce"]]),
    [
      ["DPoP t1", undefined],
      ["DPoP t1", "nonce-1"],
      ["DPoP t2", "nonce-1"],
    ],
  );
  assert.deepEqual(
    events.filter((e) => e.type === "retry").map((e) => e.type === "retry" && e.reason),
    ["USE_DPOP_NONCE", "TOKEN_EXPIRED"],
  );
  // Single-use nonces: the token retry's proof has a spent nonce, and that second nonce challenge is the
  // app's (three attempts: the nonce retry is not made twice in one call, even across a token retry).
  const strict = dpopServer({ requireNonce: true, singleUseNonces: true, expired: new Set(["t1"]) });
  const again = setup(strict, { token: counting(), dpop: createDpopProver({ keyPair: await keyPair() }) });
  assert.equal(readAuthFailure(await failureOf(again.client.greet({})))?.reason, "USE_DPOP_NONCE");
  assert.deepEqual(
    strict.seen.map((s) => [s.authorization, s.claims?.["nonce"]]),
    [
      ["DPoP t1", undefined],
      ["DPoP t1", "nonce-1"],
      ["DPoP t2", "nonce-1"],
    ],
  );
});

test("server streaming: retried for a nonce before its first message, not after", async () => {
  const server = dpopServer({ requireNonce: true });
  const { client } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  const got: string[] = [];
  for await (const m of client.greetStream({ name: "x", count: 3 })) got.push(m.greeting);
  assert.deepEqual(got, ["1", "2", "3"]);
  assert.deepEqual(
    server.seen.map((s) => s.claims?.["nonce"]),
    [undefined, "nonce-1"],
  );

  const late = dpopServer();
  const after = setup(late, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  const partial: string[] = [];
  const error = await failureOf(
    (async () => {
      for await (const m of after.client.greetStream({ name: "challenge-after-first", count: 3 })) partial.push(m.greeting);
    })(),
  );
  assert.equal(readAuthFailure(error)?.reason, "USE_DPOP_NONCE");
  assert.deepEqual(partial, ["1"], "a stream that delivered a message is not made again");
});

test("client streaming: a proof, but never a retry", async () => {
  const server = dpopServer({ requireNonce: true });
  const { client } = setup(server, { token: "tok-1", dpop: createDpopProver({ keyPair: await keyPair() }) });
  async function* names() {
    yield { name: "a" };
  }
  assert.equal(readAuthFailure(await failureOf(client.greetMany(names())))?.reason, "USE_DPOP_NONCE");
  assert.equal(server.seen.length, 1);
  assert.equal(server.seen[0]?.authorization, "DPoP tok-1");
  const next = await client.greetMany(names());
  assert.equal(next.greeting, "1", "the nonce of the refusal is in the next call's proof");
  assert.equal(server.seen[1]?.claims?.["nonce"], "nonce-1");
});

test("Connect GET (useHttpGet): methods without side effects are proved with htm GET", async () => {
  // The test service has no NO_SIDE_EFFECTS method: one is made of Greet for this test.
  const greet = { ...GreeterService.method.greet, idempotency: MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS };
  const Service = { ...GreeterService, methods: [greet], method: { greet } } as unknown as DescService & {
    method: { greet: DescMethodUnary };
  };
  Object.assign(greet, { parent: Service });
  const seen: JWTPayload[] = [];
  const transport = (useHttpGet: boolean) =>
    createRouterTransport(
      (router) =>
        router.service(Service as typeof GreeterService, {
          greet: async (_req, ctx) => {
            const { payload } = await jwtVerify(ctx.requestHeader.get("dpop") ?? "", EmbeddedJWK, { typ: "dpop+jwt" });
            assert.equal(payload.htm, ctx.requestMethod);
            seen.push(payload);
            return {};
          },
        }),
      {
        transport: {
          baseUrl,
          useHttpGet,
          interceptors: [
            createAuthInterceptor({ token: "tok-1", dpop: createDpopProver({ keyPair: keyPairs.shift()!, useHttpGet }) }),
          ],
        } as Record<string, unknown>,
      },
    );
  const keyPairs = [await keyPair(), await keyPair()];
  await createClient(Service as typeof GreeterService, transport(true)).greet({ name: "q" });
  await createClient(Service as typeof GreeterService, transport(false)).greet({ name: "q" });
  assert.deepEqual(
    seen.map((p) => [p.htm, p["htu"]]),
    [
      ["GET", `${baseUrl}/test.v1.GreeterService/Greet`],
      ["POST", `${baseUrl}/test.v1.GreeterService/Greet`],
    ],
  );
});

test("the token source's prover is used when the interceptor has none; the interceptor's own wins", async () => {
  const bound = createDpopProver({ keyPair: await keyPair() });
  const own = createDpopProver({ keyPair: await keyPair() });
  const source = { getToken: async () => "tok-1", dpop: bound };
  const server = dpopServer();
  await setup(server, { token: source }).client.greet({});
  await setup(server, { token: source, dpop: own }).client.greet({});
  assert.deepEqual(
    server.seen.map((s) => s.jkt),
    [await bound.jkt(), await own.jkt()],
  );
});

test("a proof that cannot be made: TOKEN_UNAVAILABLE (dpop_proof), nothing sent, a refusal event, no key or token text", async () => {
  // jose refuses RSA keys under 2048 bits when it signs.
  const small = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const server = dpopServer();
  const { client, events } = setup(server, { token: "tok-secret-1", dpop: createDpopProver({ keyPair: small }) });
  const error = await failureOf(client.greet({}));
  const failure = readAuthFailure(error);
  assert.equal(error.code, Code.Unavailable);
  assert.deepEqual(
    [failure?.reason, failure?.metadata["detail"], failure?.metadata["cause"]],
    ["TOKEN_UNAVAILABLE", "dpop_proof", "TypeError"],
  );
  assert.deepEqual(server.seen, []);
  assert.deepEqual(events, [{ type: "refusal", procedure: "/test.v1.GreeterService/Greet", reason: "TOKEN_UNAVAILABLE" }]);
  assert.ok(!JSON.stringify([error.message, String(error.cause), [...error.metadata], events]).includes("tok-secret"));
});

test("dpop that is not a prover: TypeError at creation", () => {
  for (const dpop of [{}, "prover", 1, { proof: async () => "x" }]) {
    assert.throws(() => createAuthInterceptor({ token: "t", dpop: dpop as unknown as DpopProver }), TypeError);
  }
});
