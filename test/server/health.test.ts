// grpc.health.v1 over the wire that knows about auth: a Connect server (http2 cleartext) serving
// createHealthService over the readiness of a remote JWKS on 127.0.0.1. While the key server is down,
// Check says NOT_SERVING on Connect, gRPC and gRPC-web and to a @grpc/grpc-js client; once it is back,
// every Watch sees SERVING within 1 s of the keys being fetched, and Check says SERVING.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { type DescMessage, type MessageInitShape, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  Health,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus as ServingStatus,
  createAuthReadiness,
  healthRoutes,
} from "@connectauth/server";
// Internal: the status of a key source (what the JWT authenticators report as theirs), kept by the
// module that made the source, so both from src.
import { type KeySourceStatus, keySourceStatusOf } from "../../packages/server/src/key-source-status.js";
import { createRemoteKeySource } from "../../packages/server/src/remote-key-source.js";
import { type KeyServer, startKeyServer } from "../support/key-server.js";
import { createTestSigner } from "../support/tokens.js";
import { type RunningServer, setups } from "./adapters/setups.js";
import { transportOf } from "../support/transports.js";

const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = ServingStatus;
const protocols = ["connect", "grpc", "grpc-web"] as const;

/** A grpc-js client of grpc.health.v1.Health, made from the generated descriptors (no proto loader). */
function codec<D extends DescMessage>(schema: D) {
  return {
    serialize: (m: MessageInitShape<D>) => Buffer.from(toBinary(schema, create(schema, m))),
    deserialize: (b: Buffer) => fromBinary(schema, b),
  };
}
const healthDefinition: grpc.ServiceDefinition = Object.fromEntries(
  Health.methods.map((m) => {
    const input = codec(m.input);
    const output = codec(m.output);
    const definition = {
      path: `/${Health.typeName}/${m.name}`,
      requestStream: false,
      responseStream: m.methodKind === "server_streaming",
      requestSerialize: input.serialize,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize,
      responseDeserialize: output.deserialize,
    };
    return [m.localName, definition];
  }),
);
const HealthGrpcJsClient = grpc.makeGenericClientConstructor(healthDefinition, "Health");
type GrpcJsHealth = {
  check(req: object, cb: (e: grpc.ServiceError | null, res?: HealthCheckResponse) => void): void;
  watch(req: object): grpc.ClientReadableStream<HealthCheckResponse>;
  close(): void;
};

const grpcJsCheck = (client: GrpcJsHealth, service: string) =>
  new Promise<HealthCheckResponse>((resolve, reject) =>
    client.check({ service }, (e, res) => (e ? reject(e) : resolve(res as HealthCheckResponse))),
  );

/** The statuses one Watch received, and a wait for the first one that is `status`. */
function collector() {
  const seen: ServingStatus[] = [];
  const waiters: { status: ServingStatus; resolve: () => void }[] = [];
  return {
    seen,
    push(status: ServingStatus) {
      seen.push(status);
      for (const w of waiters.filter((w) => w.status === status)) w.resolve();
    },
    until(status: ServingStatus, withinMs: number, what: string): Promise<void> {
      if (seen.includes(status)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: no ${ServingStatus[status]} within ${withinMs} ms`)), withinMs);
        waiters.push({
          status,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

const greeter = "example.v1.GreeterService";

describe("grpc.health.v1 following the keys of a remote JWKS", () => {
  let keys: KeyServer;
  let status: KeySourceStatus;
  let server: RunningServer;
  let grpcJs: GrpcJsHealth;
  before(async () => {
    keys = await startKeyServer((await createTestSigner("k1")).jwks);
    keys.mode = "drop"; // down from the start: nothing can be fetched
    const getKey = createRemoteKeySource(keys.jwksUrl, {
      allowInsecureLoopback: true,
      failureBackoff: 200,
      timeoutDuration: 500,
    });
    status = keySourceStatusOf(getKey)!;
    const readiness = createAuthReadiness([{ name: "jwt", ...status }]);
    server = await setups
      .find((s) => s.name.includes("http2 cleartext"))!
      .start({ routes: (router) => healthRoutes(router, { readiness, services: [greeter] }) });
    grpcJs = new HealthGrpcJsClient(
      server.url.replace("http://", ""),
      grpc.credentials.createInsecure(),
    ) as unknown as GrpcJsHealth;
  });
  after(async () => {
    grpcJs.close();
    status.close();
    await server.close();
    await keys.close();
  });

  test("while the keys cannot be fetched: NOT_SERVING on every protocol and to grpc-js; an unknown service is NotFound", async () => {
    for (const protocol of protocols) {
      const client = createClient(Health, transportOf(server.url, protocol));
      for (const service of ["", greeter]) {
        assert.equal((await client.check({ service })).status, NOT_SERVING, `${protocol} ${service}`);
      }
      await assert.rejects(client.check({ service: "example.v1.Nope" }), (e: unknown) => {
        assert.ok(e instanceof ConnectError, protocol);
        assert.equal(e.code, Code.NotFound, protocol);
        return true;
      });
    }
    for (const service of ["", greeter]) {
      assert.equal((await grpcJsCheck(grpcJs, service)).status, NOT_SERVING, `grpc-js ${service}`);
    }
    await assert.rejects(grpcJsCheck(grpcJs, "example.v1.Nope"), { code: grpc.status.NOT_FOUND });
    assert.ok(keys.requests.jwks >= 1, "the checks asked the key source to fetch");
    assert.equal(status.status().ready, false);
    assert.equal(status.status().lastError, "network");
  });

  test("Watch on every protocol and from grpc-js: NOT_SERVING, then SERVING within 1 s of the keys coming back; Check follows", async () => {
    const abort = new AbortController();
    const watches = new Map<string, ReturnType<typeof collector>>();
    const streams: Promise<void>[] = [];
    for (const protocol of protocols) {
      const c = collector();
      watches.set(protocol, c);
      const stream = createClient(Health, transportOf(server.url, protocol)).watch({}, { signal: abort.signal });
      streams.push(
        (async () => {
          for await (const m of stream) c.push(m.status);
        })().catch((e: unknown) => {
          if (!(e instanceof ConnectError && e.code === Code.Canceled)) throw e;
        }),
      );
    }
    const fromGrpcJs = collector();
    watches.set("grpc-js", fromGrpcJs);
    const grpcJsStream = grpcJs.watch({ service: greeter });
    grpcJsStream.on("data", (m: HealthCheckResponse) => fromGrpcJs.push(m.status));
    grpcJsStream.on("error", () => {}); // the cancel at the end
    const unknown = collector();
    const unknownStream = grpcJs.watch({ service: "example.v1.Nope" });
    unknownStream.on("data", (m: HealthCheckResponse) => unknown.push(m.status));
    unknownStream.on("error", () => {});

    for (const [what, c] of watches) await c.until(NOT_SERVING, 2000, what);
    await unknown.until(SERVICE_UNKNOWN, 2000, "grpc-js, unknown service");

    keys.mode = "ok";
    const start = performance.now();
    await Promise.all([...watches].map(([what, c]) => c.until(SERVING, 1000, what)));
    const ms = performance.now() - start;
    for (const [what, c] of watches) assert.deepEqual(c.seen, [NOT_SERVING, SERVING], what);
    assert.deepEqual(unknown.seen, [SERVICE_UNKNOWN], "an unknown service stays unknown");

    for (const protocol of protocols) {
      const client = createClient(Health, transportOf(server.url, protocol));
      assert.equal((await client.check({})).status, SERVING, protocol);
      assert.equal((await client.check({ service: greeter })).status, SERVING, protocol);
    }
    assert.equal((await grpcJsCheck(grpcJs, "")).status, SERVING, "grpc-js");
    assert.equal(status.status().ready, true);

    abort.abort();
    grpcJsStream.cancel();
    unknownStream.cancel();
    await Promise.all(streams);
    console.log(`# every Watch saw SERVING ${Math.round(ms)} ms after the key server came back (failureBackoff 200)`);
  });
});
