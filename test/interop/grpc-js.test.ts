// Interop with @grpc/grpc-js, the reference gRPC implementation for Node:
// - a grpc-js client (metadata per call over h2c; call credentials over TLS) against our server:
//   OK, UNAUTHENTICATED, PERMISSION_DENIED and server streaming, with the ErrorInfo reason decoded from
//   grpc-status-details-bin and the challenge from the trailers;
// - our client against a grpc-js server answering UNAUTHENTICATED: it sees the reason and challenge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Code, createClient } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Reason, createAuthError } from "@connectauth/core";
import { createAuthInterceptor, readAuthFailure } from "@connectauth/client";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { type DevIssuer, createDevIssuer } from "@connectauth/node/dev";
import { type TestPki, createTestPki } from "../support/certs.js";
import { greeterServeOptions, outcomeOf } from "../server/adapters/suite.js";
import { type RunningServer, setups } from "../server/adapters/setups.js";
import { GreeterGrpcJsClient, startGrpcJsGreeter } from "./grpc-js-greeter.js";

type Client = InstanceType<typeof GreeterGrpcJsClient>;
type Unary = (req: object, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, res?: unknown) => void) => void;

/** One unary call of a grpc-js client, as a promise. */
function call<T>(client: Client, method: string, req: object, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, Unary>)[method]!.call(client, req, metadata, (e, res) =>
      e ? reject(e) : resolve(res as T),
    ),
  );
}

/** All messages of a server-streaming call of a grpc-js client. */
function stream<T>(client: Client, method: string, req: object, metadata = new grpc.Metadata()): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    const s = (client as unknown as Record<string, (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<T>>)[method]!.call(
      client,
      req,
      metadata,
    );
    s.on("data", (m: T) => out.push(m));
    s.on("error", reject);
    s.on("end", () => resolve(out));
  });
}

/** What a grpc-js client sees of a failure: status code, the connectauth reason and the challenge. */
async function grpcFailure(p: Promise<unknown>) {
  const error = await p.then(
    () => assert.fail("expected the call to fail"),
    (e: grpc.ServiceError) => e,
  );
  const trailer = new Headers({ "grpc-status": String(error.code), "grpc-message": encodeURIComponent(error.details) });
  const bin = error.metadata.get("grpc-status-details-bin")[0];
  if (bin instanceof Buffer) trailer.set("grpc-status-details-bin", bin.toString("base64"));
  const decoded = findTrailerError(trailer);
  return {
    code: error.code as number,
    reason: decoded === undefined ? undefined : readAuthFailure(decoded)?.reason,
    challenge: error.metadata.get("www-authenticate")[0],
  };
}

const bearer = (token: string) => {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
};

let issuer: DevIssuer;
let pki: TestPki;
let greet: string;
let admin: string;
before(async () => {
  issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
  pki = await createTestPki();
  [greet, admin] = await Promise.all([
    issuer.mint({ subject: "alice", scopes: ["greet"] }),
    issuer.mint({ subject: "root", scopes: ["greet", "admin"] }),
  ]);
});

describe("a grpc-js client against our server", () => {
  let h2c: RunningServer;
  let tls: RunningServer;
  const clients: Client[] = [];
  before(async () => {
    h2c = await setups.find((s) => s.name.includes("http2 cleartext"))!.start(greeterServeOptions(issuer));
    tls = await setups
      .find((s) => s.name.includes("http2 over TLS"))!
      .start({ ...greeterServeOptions(issuer), tls: pki.server.tls });
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([h2c.close(), tls.close()]);
  });
  const insecure = () => {
    const c = new GreeterGrpcJsClient(h2c.url.replace("http://", ""), grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };
  const withCallCredentials = (token: string) => {
    const perCall = grpc.credentials.createFromMetadataGenerator((_params, done) => done(null, bearer(token)));
    const c = new GreeterGrpcJsClient(
      tls.url.replace("https://", ""),
      grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(pki.ca.certPem)), perCall),
      // The server certificate names localhost (and 127.0.0.1); a TLS server name may not be an IP address.
      { "grpc.ssl_target_name_override": "localhost" },
    );
    clients.push(c);
    return c;
  };

  test("metadata per call: OK, UNAUTHENTICATED, PERMISSION_DENIED", async () => {
    const c = insecure();
    assert.match((await call<{ greeting: string }>(c, "greet", { name: "Ada" }, bearer(greet))).greeting, /Ada.*alice/);
    assert.deepEqual(await grpcFailure(call(c, "greet", { name: "Ada" })), {
      code: grpc.status.UNAUTHENTICATED,
      reason: "MISSING_CREDENTIALS",
      challenge: 'Bearer realm="greeter"',
    });
    assert.deepEqual(await grpcFailure(call(c, "admin", {}, bearer(greet))), {
      code: grpc.status.PERMISSION_DENIED,
      reason: "INSUFFICIENT_SCOPE",
      challenge: 'Bearer realm="greeter", error="insufficient_scope", scope="admin greet"',
    });
    assert.deepEqual(await grpcFailure(call(c, "greet", {}, bearer("not.a.jwt"))), {
      code: grpc.status.UNAUTHENTICATED,
      reason: "INVALID_TOKEN",
      challenge: 'Bearer realm="greeter", error="invalid_token"',
    });
  });

  test("metadata per call: server streaming, allowed and refused", async () => {
    const c = insecure();
    const messages = await stream<{ greeting: string }>(c, "greetStream", { name: "Ada", count: 3 }, bearer(greet));
    assert.deepEqual(
      messages.map((m) => m.greeting),
      [1, 2, 3].map((i) => `Hello #${i}, Ada! (from alice)`),
    );
    assert.deepEqual(await grpcFailure(stream(c, "greetStream", { count: 3 })), {
      code: grpc.status.UNAUTHENTICATED,
      reason: "MISSING_CREDENTIALS",
      challenge: 'Bearer realm="greeter"',
    });
  });

  test("call credentials over TLS: OK, PERMISSION_DENIED, streaming", async () => {
    const me = await call<{ subject: string; scopes: string[] }>(withCallCredentials(admin), "whoAmI", {});
    assert.deepEqual([me.subject, me.scopes], ["root", ["admin", "greet"]]);
    assert.deepEqual(await grpcFailure(call(withCallCredentials(greet), "admin", {})), {
      code: grpc.status.PERMISSION_DENIED,
      reason: "INSUFFICIENT_SCOPE",
      challenge: 'Bearer realm="greeter", error="insufficient_scope", scope="admin greet"',
    });
    assert.equal((await stream(withCallCredentials(greet), "greetStream", { count: 2 })).length, 2);
    const expired = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: -3600 });
    assert.deepEqual(await grpcFailure(call(withCallCredentials(expired), "greet", {})), {
      code: grpc.status.UNAUTHENTICATED,
      reason: "TOKEN_EXPIRED",
      challenge: 'Bearer realm="greeter", error="invalid_token"',
    });
  });
});

describe("our client against a grpc-js server", () => {
  let server: Awaited<ReturnType<typeof startGrpcJsGreeter>>;
  before(async () => {
    server = await startGrpcJsGreeter((authorization) =>
      authorization === "Bearer fresh-token" ? "hello" : createAuthError(Reason.TokenExpired, { realm: "legacy" }),
    );
  });
  after(() => server.close());
  const client = (token: string) =>
    createClient(GreeterService, createGrpcTransport({ baseUrl: server.url, interceptors: [createAuthInterceptor({ token })] }));

  test("UNAUTHENTICATED from grpc-js: our client reads the reason and challenge", async () => {
    assert.equal((await client("fresh-token").greet({})).greeting, "hello");
    assert.deepEqual(await outcomeOf(client("stale-token").greet({})), {
      code: Code.Unauthenticated,
      reason: "TOKEN_EXPIRED",
      challenge: 'Bearer realm="legacy", error="invalid_token"',
    });
    assert.deepEqual(
      server.seen.map((s) => s.authorization),
      ["Bearer fresh-token", "Bearer stale-token"],
    );
  });
});
