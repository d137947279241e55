// The plaintext guard over the wire, set up as users set it up: connect-node and connect-web transports
// whose base URL spells http: in other ways. The remote name api.example.test is made to resolve to a
// listener on 127.0.0.1 (connect-node: a `lookup` in nodeOptions; connect-web: a fetch that dials
// 127.0.0.1), so a request the guard let through would reach it: the listener must see none, and the
// same setups with allowInsecureTransport: true show that it would.
import { after, before, suite, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { LookupFunction } from "node:net";
import { Code, ConnectError, type Transport, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport as createNodeTransport } from "@connectrpc/connect-node";
import { createConnectTransport as createWebTransport } from "@connectrpc/connect-web";
import * as core from "@connectauth/core";
import { ErrorInfoSchema, isLoopbackUrl as coreIsLoopbackUrl } from "@connectauth/core";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { type Listening, listenOnLoopback } from "../../../test/support/listen.js";
import { createAuthInterceptor, type AuthInterceptorOptions } from "./auth-interceptor.js";
import { readAuthFailure } from "./index.js";
import * as client from "./index.js";

const remoteName = "api.example.test";
const token = "secret-token-123";

/** Resolves api.example.test to 127.0.0.1, and nothing else at all (no other name, no other address). */
const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
  if (hostname !== remoteName) {
    callback(Object.assign(new Error(`not resolved in this test: ${hostname}`), { code: "ENOTFOUND" }));
  } else if (options.all === true) {
    callback(null, [{ address: "127.0.0.1", family: 4 }]);
  } else {
    callback(null, "127.0.0.1", 4);
  }
}) as unknown as LookupFunction;

let listening: Listening;
let port: string;
/** The Authorization header of every request that reached the listener (null: none sent). */
const reached: (string | null)[] = [];

before(async () => {
  const adapter = connectNodeAdapter({
    routes: (router) => router.service(GreeterService, { greet: () => ({ greeting: "hi" }), ping: () => ({}) }),
  });
  listening = await listenOnLoopback(
    createServer((req, res) => {
      reached.push(req.headers.authorization ?? null);
      adapter(req, res);
    }),
  );
  port = listening.hostPort.split(":")[1]!;
});
after(() => listening.close());

type Kind = "connect-node" | "connect-web";

/** A transport of `kind` to `baseUrl`, with the auth interceptor, and a count of the HTTP requests it began. */
function transportOf(kind: Kind, baseUrl: string, options: Partial<AuthInterceptorOptions> = {}) {
  const interceptors = [createAuthInterceptor({ token, ...options })];
  let fetched = 0;
  const transport: Transport =
    kind === "connect-node"
      ? createNodeTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { lookup }, interceptors })
      : createWebTransport({
          baseUrl,
          interceptors,
          // A fetch that records its calls and dials the loopback listener for api.example.test.
          fetch: (input, init) => {
            fetched++;
            const url = new URL(input instanceof Request ? input.url : String(input));
            if (url.hostname !== remoteName) throw new Error(`not dialled in this test: ${url.hostname}`);
            url.hostname = "127.0.0.1";
            return fetch(url, init);
          },
        });
  return { client: createClient(GreeterService, transport), fetched: () => fetched };
}

// Each spelling is http: to api.example.test as fetch and Node's http parse it.
const spellings = (p: string) => [
  `http://${remoteName}:${p}`,
  `HTTP://${remoteName}:${p}`,
  `Http://${remoteName}:${p}`,
  ` http://${remoteName}:${p}`,
  `h\tttp://${remoteName}:${p}`,
];

for (const kind of ["connect-node", "connect-web"] as const) {
  suite(`plaintext guard over ${kind}`, () => {
    test("http: to a remote host, however spelled, is refused before any request: INSECURE_TRANSPORT", async () => {
      for (const baseUrl of spellings(port)) {
        reached.length = 0;
        const { client, fetched } = transportOf(kind, baseUrl);
        await assert.rejects(client.greet({}), (e: unknown) => {
          assert.ok(e instanceof ConnectError, JSON.stringify(baseUrl));
          assert.equal(e.code, Code.FailedPrecondition);
          assert.equal(readAuthFailure(e)?.reason, "INSECURE_TRANSPORT");
          assert.ok(!JSON.stringify([e.message, e.findDetails(ErrorInfoSchema)]).includes(token));
          return true;
        });
        assert.deepEqual(reached, [], `the listener saw no request for ${JSON.stringify(baseUrl)}`);
        assert.equal(fetched(), 0, "no fetch was made");
      }
    });

    test("control: the same setups reach the listener, with the token, when plaintext is allowed", async () => {
      for (const baseUrl of spellings(port)) {
        reached.length = 0;
        const { client } = transportOf(kind, baseUrl, { allowInsecureTransport: true });
        assert.equal((await client.greet({})).greeting, "hi");
        assert.deepEqual(reached, [`Bearer ${token}`], JSON.stringify(baseUrl));
      }
    });

    test("http: to 127.0.0.1 is loopback and allowed; a public method sends no credential anywhere", async () => {
      reached.length = 0;
      await transportOf("connect-node", `HTTP://127.0.0.1:${port}`).client.greet({});
      await transportOf(kind, `http://${remoteName}:${port}`).client.ping({});
      assert.deepEqual(reached, [`Bearer ${token}`, null]);
    });
  });
}

test("the client's isLoopbackUrl is core's one function, re-exported", () => {
  assert.equal(client.isLoopbackUrl, coreIsLoopbackUrl);
  assert.equal(client.isLoopbackUrl("http://app.localhost"), false, "*.localhost is not loopback");
});

test("one failure reader and the client's reasons: core's, re-exported under the same names", () => {
  assert.equal(client.readAuthFailure, core.readAuthFailure);
  assert.equal(client.ClientReason, core.ClientReason);
  assert.equal(client.ClientReason.InsecureTransport, "INSECURE_TRANSPORT");
  assert.equal(client.ClientReason.TokenUnavailable, "TOKEN_UNAVAILABLE");
  const names = Object.keys(client);
  assert.deepEqual(
    names.filter((n) => /fail/i.test(n)),
    ["readAuthFailure"],
    "no second reader",
  );
  assert.deepEqual(names.filter((n) => /reason/i.test(n)).sort(), ["ClientReason", "Reason", "isTokenReason"]);
});
