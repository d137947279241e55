// The consumer test: a user's app built from the packed tarballs (scripts/consumer-test.mjs installs
// them outside the workspace), with its own proto. Every server setup, every protocol it serves, the
// cases a user meets first. Tokens come from a local key set; every socket is on 127.0.0.1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  type ClientAuthEvent,
  type TokenInput,
  createAuthInterceptor,
  createCachedTokenSource,
  readAuthFailure,
} from "@connectauth/client";
import { createServerAuth } from "@connectauth/server";
import { ShopService } from "./gen/shop/v1/shop_pb.js";
import { type KeySet, createKeySet, serveJwks } from "./keys.mjs";
import { type Protocol, type RunningServer, startExpressServer, startFastifyServer, startHttp2Server } from "./servers.mjs";

const appRoot = new URL("..", import.meta.url);
const installed = (name: string): string =>
  JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, appRoot), "utf8")).version;
const connectVersion = installed("@connectrpc/connect");
/** `requestGate` is in `@connectrpc/connect` from 2.2.0 on: before, only the interceptor can run. */
const [major, minor] = connectVersion.split(".").map(Number);
const hasRequestGate = major > 2 || (major === 2 && minor >= 2);

console.log(
  `# node ${process.version}, @connectrpc/connect ${connectVersion}, connect-node ${installed("@connectrpc/connect-node")}, ` +
    `connect-fastify ${installed("@connectrpc/connect-fastify")}, connect-express ${installed("@connectrpc/connect-express")}, ` +
    `@bufbuild/protobuf ${installed("@bufbuild/protobuf")}: request gate ${hasRequestGate ? "runs" : "absent"}`,
);

let keys: KeySet;
let jwksServer: Awaited<ReturnType<typeof serveJwks>>;
const servers: RunningServer[] = [];

before(async () => {
  keys = await createKeySet();
  jwksServer = await serveJwks(keys);
  servers.push(
    await startHttp2Server({ jwks: keys.jwks }),
    await startFastifyServer({ jwksUrl: jwksServer.url }),
    await startExpressServer({ jwks: keys.jwks }),
  );
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await jwksServer.close();
});

function transportOf(
  server: RunningServer,
  protocol: Protocol,
  token?: TokenInput,
  onEvent?: (e: ClientAuthEvent) => void,
): Transport {
  const interceptors = token === undefined ? [] : [createAuthInterceptor({ token, onEvent })];
  if (protocol === "grpc") return createGrpcTransport({ baseUrl: server.baseUrl, interceptors }); // HTTP/2 only
  const options = { baseUrl: server.baseUrl, httpVersion: server.httpVersion, interceptors };
  if (protocol === "grpc-web") return createGrpcWebTransport(options);
  return createConnectTransport(options);
}

async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    assert.ok(e instanceof ConnectError, `a ConnectError, not ${String(e)}`);
    return e;
  }
  assert.fail("the call succeeded");
}

const setups: Array<[string, readonly Protocol[]]> = [
  ["node:http2", ["connect", "grpc", "grpc-web"]],
  ["fastify", ["connect", "grpc", "grpc-web"]],
  ["express", ["connect", "grpc-web"]],
];

for (const [name, protocols] of setups) {
  describe(`${name} server`, () => {
    const server = () => {
      const s = servers.find((s) => s.name === name);
      assert.ok(s, `the ${name} server is running`);
      return s;
    };

    for (const protocol of protocols) {
      describe(protocol, () => {
        test("allowed: a token with the method's scope reaches the handler, which sees the caller", async () => {
          const client = createClient(ShopService, transportOf(server(), protocol, await keys.mint("alice", ["items.read"])));
          const res = await client.getItem({ id: "42" });
          assert.equal(res.id, "42");
          assert.equal(res.caller, "alice");
          const ids: string[] = [];
          for await (const item of client.listItems({ count: 3 })) ids.push(item.id);
          assert.deepEqual(ids, ["item-0", "item-1", "item-2"]);
        });

        test("public: Ping needs no token", async () => {
          await createClient(ShopService, transportOf(server(), protocol)).ping({});
        });

        test("missing scope: PermissionDenied, INSUFFICIENT_SCOPE, the scope to ask for", async () => {
          const client = createClient(ShopService, transportOf(server(), protocol, await keys.mint("alice", ["items.read"])));
          const err = await rejection(client.deleteItem({ id: "42" }));
          assert.equal(err.code, Code.PermissionDenied);
          const failure = readAuthFailure(err);
          assert.equal(failure?.reason, "INSUFFICIENT_SCOPE");
          assert.equal(failure?.action, "consent");
          assert.deepEqual(failure?.requiredScopes, ["items.write"]);
          assert.equal(failure?.challenge?.params.error, "insufficient_scope");
          assert.equal(failure?.challenge?.params.scope, "items.write");
        });

        test("no token: Unauthenticated, MISSING_CREDENTIALS, a Bearer challenge", async () => {
          const err = await rejection(createClient(ShopService, transportOf(server(), protocol)).getItem({ id: "42" }));
          assert.equal(err.code, Code.Unauthenticated);
          const failure = readAuthFailure(err);
          assert.equal(failure?.reason, "MISSING_CREDENTIALS");
          assert.equal(failure?.action, "sign_in");
          assert.equal(failure?.challenge?.scheme.toLowerCase(), "bearer");
        });

        test("expired: Unauthenticated, TOKEN_EXPIRED (a source that has no other token is not retried)", async () => {
          const expired = await keys.mint("alice", ["items.read"], -120);
          const events: ClientAuthEvent[] = [];
          const client = createClient(
            ShopService,
            transportOf(
              server(),
              protocol,
              () => expired,
              (e) => events.push(e),
            ),
          );
          const err = await rejection(client.getItem({ id: "42" }));
          assert.equal(err.code, Code.Unauthenticated);
          assert.equal(readAuthFailure(err)?.reason, "TOKEN_EXPIRED");
          assert.equal(err.message.includes(expired), false, "the token is not in the message");
          assert.deepEqual(
            events.filter((e) => e.type === "retry"),
            [],
          );
        });

        test("refresh and retry: a rejected cached token is replaced and the call made once more", async () => {
          const tokens = [await keys.mint("alice", ["items.read"], -120), await keys.mint("alice", ["items.read"])];
          let loads = 0;
          const source = createCachedTokenSource({ load: async () => ({ token: tokens[loads++] ?? "", expiresIn: 300 }) });
          const events: ClientAuthEvent[] = [];
          const client = createClient(
            ShopService,
            transportOf(server(), protocol, source, (e) => events.push(e)),
          );
          const res = await client.getItem({ id: "7" });
          assert.equal(res.caller, "alice");
          assert.equal(loads, 2);
          const retries = events.filter((e) => e.type === "retry");
          assert.equal(retries.length, 1);
          assert.equal(retries[0]?.type === "retry" && retries[0].reason, "TOKEN_EXPIRED");
        });
      });
    }

    test(
      hasRequestGate
        ? `the request gate runs (connect ${connectVersion}): no GATE_NOT_RUN warning`
        : `without a request gate (connect ${connectVersion}) the server says so once: GATE_NOT_RUN naming the fix`,
      () => {
        const warnings = server().warnings;
        if (hasRequestGate) {
          assert.deepEqual(warnings, []);
        } else {
          assert.equal(warnings.length, 1, "once per server, however many calls");
          assert.equal(warnings[0]?.code, "GATE_NOT_RUN");
          assert.match(warnings[0]?.message ?? "", /requestGate/);
          assert.match(warnings[0]?.message ?? "", /@connectrpc\/connect/);
        }
      },
    );

    test(
      hasRequestGate
        ? `the gate alone can be installed (connect ${connectVersion})`
        : `the gate alone is refused at setup (connect ${connectVersion} would ignore it and check nothing)`,
      () => {
        const auth = createServerAuth({
          authenticators: [
            { name: "none", schemes: ["bearer"], authenticate: async () => ({ ok: false, reason: "INVALID_TOKEN" }) },
          ],
        });
        if (hasRequestGate) assert.equal(typeof auth.requestGate, "function");
        else
          assert.throws(
            () => auth.requestGate,
            (e: unknown) => e instanceof TypeError && /auth\.install/.test(e.message),
          );
      },
    );
  });
}

describe("connectauth audit in the user's buf workspace", () => {
  test("finds the rules of the user's own proto", () => {
    const bin = new URL("node_modules/.bin/connectauth", appRoot).pathname;
    const out = execFileSync(bin, ["audit", "--json"], {
      cwd: appRoot,
      encoding: "utf8",
      env: { ...process.env, PATH: `${new URL("node_modules/.bin", appRoot).pathname}:${process.env.PATH}` },
    });
    const report = JSON.parse(out) as { methods: Array<{ name: string; rule: { public: boolean; allScopes: string[] } }> };
    const byName = new Map(report.methods.map((m) => [m.name.replace(/^\//, ""), m.rule]));
    assert.deepEqual(byName.get("shop.v1.ShopService/GetItem")?.allScopes, ["items.read"]);
    assert.deepEqual(byName.get("shop.v1.ShopService/DeleteItem")?.allScopes, ["items.write"]);
    assert.equal(byName.get("shop.v1.ShopService/Ping")?.public, true);
  });
});
