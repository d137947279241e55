// DPoP over real HTTP with every Node transport and connect-web's (fetch): the nonce of a USE_DPOP_NONCE
// refusal is read where each protocol puts it (Connect: response headers, or the end-of-stream message;
// gRPC and gRPC-web: trailers), and the call is made once more with it; the nonces of successes are kept
// too. The server here checks each proof with jose (the DPoP server side is not this package's).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer as createHttp1Server } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { type HandlerContext, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as web from "@connectrpc/connect-web";
import { Reason, createAuthError } from "@connectauth/core";
import { type ClientAuthEvent, createAuthInterceptor } from "@connectauth/client";
import { createDpopProver } from "@connectauth/client/dpop";
import { EmbeddedJWK, jwtVerify } from "jose";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";

/** What the server saw of each call: the nonce in its proof, and whether it refused it. */
const seen: { procedure: string; nonce: unknown; refused: boolean }[] = [];
let current = 0;
let h2: Listening;
let h1: Listening;
/** The servers' base URLs, by HTTP version. */
const baseUrls = { "2": "", "1.1": "" };

/** Checks a call's proof (RFC 9449 §4.3) and wants the current nonce; a success hands out the next one. */
async function check(ctx: HandlerContext): Promise<void> {
  const authorization = ctx.requestHeader.get("authorization") ?? "";
  assert.match(authorization, /^DPoP /);
  const { payload } = await jwtVerify(ctx.requestHeader.get("dpop") ?? "", EmbeddedJWK, {
    typ: "dpop+jwt",
    algorithms: ["ES256"],
  });
  assert.equal(payload["ath"], createHash("sha256").update(authorization.slice(5)).digest("base64url"));
  assert.equal(payload["htu"], `${new URL(ctx.url).origin}${new URL(ctx.url).pathname}`);
  const refused = payload["nonce"] !== `n${current}`;
  seen.push({ procedure: ctx.method.name, nonce: payload["nonce"], refused });
  if (refused) throw createAuthError(Reason.UseDpopNonce, { dpopNonce: `n${current}` });
  ctx.responseHeader.set("dpop-nonce", `n${++current}`);
}

before(async () => {
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(GreeterService, {
        greet: async (req, ctx) => {
          await check(ctx);
          return { greeting: `Hello, ${req.name}!` };
        },
        async *greetStream(req, ctx) {
          await check(ctx);
          for (let i = 1; i <= req.count; i++) yield { greeting: `${i}` };
        },
      }),
  });
  h2 = await listenOnLoopback(createHttp2Server(handler));
  h1 = await listenOnLoopback(createHttp1Server(handler));
  baseUrls["2"] = `http://${h2.hostPort}`;
  baseUrls["1.1"] = `http://${h1.hostPort}`;
});
after(async () => {
  await h2.close();
  await h1.close();
});

const transports: Record<string, (interceptors: Interceptor[]) => Transport> = {
  "connect (HTTP/2)": (interceptors) => createConnectTransport({ baseUrl: baseUrls["2"], httpVersion: "2", interceptors }),
  "connect (HTTP/1.1)": (interceptors) => createConnectTransport({ baseUrl: baseUrls["1.1"], httpVersion: "1.1", interceptors }),
  "grpc (HTTP/2)": (interceptors) => createGrpcTransport({ baseUrl: baseUrls["2"], interceptors }),
  "grpc-web (HTTP/1.1)": (interceptors) => createGrpcWebTransport({ baseUrl: baseUrls["1.1"], httpVersion: "1.1", interceptors }),
  "connect-web (fetch)": (interceptors) => web.createConnectTransport({ baseUrl: baseUrls["1.1"], interceptors }),
  "grpc-web of connect-web (fetch)": (interceptors) => web.createGrpcWebTransport({ baseUrl: baseUrls["1.1"], interceptors }),
};

for (const [name, make] of Object.entries(transports)) {
  test(`${name}: unary and server streaming, the nonce of a refusal taken and the call made once more`, async () => {
    const events: ClientAuthEvent[] = [];
    const keyPair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const dpop = createDpopProver({ keyPair });
    const client = createClient(
      GreeterService,
      make([createAuthInterceptor({ token: "tok-1", dpop, onEvent: (e) => events.push(e) })]),
    );
    seen.length = 0;
    current = 0;
    assert.equal((await client.greet({ name: "a" })).greeting, "Hello, a!");
    // The server's next nonce came with the success: the stream's proof carries it, no refusal.
    const got: string[] = [];
    for await (const m of client.greetStream({ name: "b", count: 2 })) got.push(m.greeting);
    assert.deepEqual(got, ["1", "2"]);
    // A nonce the client never saw (the server moved on): refused, then made once more with it.
    current += 5;
    for await (const m of client.greetStream({ name: "c", count: 1 })) got.push(m.greeting);
    assert.deepEqual(got, ["1", "2", "1"]);
    assert.deepEqual(seen, [
      { procedure: "Greet", nonce: undefined, refused: true },
      { procedure: "Greet", nonce: "n0", refused: false },
      { procedure: "GreetStream", nonce: "n1", refused: false },
      { procedure: "GreetStream", nonce: "n2", refused: true },
      { procedure: "GreetStream", nonce: "n7", refused: false },
    ]);
    assert.deepEqual(
      events.map((e) => e.type === "retry" && [e.procedure, e.reason]),
      [
        ["/example.v1.GreeterService/Greet", "USE_DPOP_NONCE"],
        ["/example.v1.GreeterService/GreetStream", "USE_DPOP_NONCE"],
      ],
    );
  });
}
