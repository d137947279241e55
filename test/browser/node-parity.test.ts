// The browser scenarios, run in Node from the same module (same generated stubs, same interceptors) with
// connect-node transports against the same example server: the browser suite must see the same.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createCachedTokenSource, watchTokenSource } from "@connectauth/client";
import { createDpopProver } from "@connectauth/client/dpop";
import { describeTokenState } from "../../packages/example/src/web/token-state.js";
import { runScenarios, type ScenarioTokens } from "../../packages/example/src/web/scenarios.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { expectedResults, expectedTokenStates, pageServerOptions, withoutTime } from "./expected.js";

let server: ExampleServer;
before(async () => {
  server = await startExampleServer(pageServerOptions());
});
after(() => server.close());

test("Node (connect-node, Connect and gRPC-web over HTTP/1.1): the scenarios end as the contract says", async () => {
  // The same key and token endpoint as the page uses.
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const jkt = await createDpopProver({ keyPair }).jkt();
  const tokens = (await (await fetch(`${server.url}/demo/tokens?jkt=${jkt}`)).json()) as ScenarioTokens;
  const lines: string[] = [];
  const results = await runScenarios(
    (protocol, interceptors) =>
      protocol === "connect"
        ? createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors })
        : createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors }),
    tokens,
    undefined,
    keyPair,
    (scenario, protocol, line) => lines.push(`${scenario} (${protocol}): ${line}`),
  );
  assert.deepEqual(results, expectedResults());
  assert.deepEqual(lines.map(withoutTime), expectedTokenStates(), "the token-state lines the page shows");
});

test("Node: the page's wording of a token source's state, fresh from /demo/tokens and failing with the next try", async () => {
  const t = Date.UTC(2030, 0, 1, 12, 0, 0);
  const now = () => t;
  const source = createCachedTokenSource({
    now,
    load: async () => ({
      token: ((await (await fetch(`${server.url}/demo/tokens`)).json()) as ScenarioTokens).greet,
      expiresIn: 300,
    }),
  });
  const view = watchTokenSource(source);
  assert.ok(view !== undefined);
  const lines = [describeTokenState(view.state())];
  view.onStateChange((s) => lines.push(describeTokenState(s)));
  await source.getToken();
  assert.deepEqual(lines, ["empty", "refreshing", "fresh, expires 12:05:00 UTC"]);
  const failing = createCachedTokenSource({
    now,
    backoffMs: 2_000,
    load: async () => {
      throw Object.assign(new Error("no issuer"), { code: "ECONNREFUSED" });
    },
  });
  await assert.rejects(failing.getToken(), /no issuer/);
  const state = watchTokenSource(failing)?.state();
  assert.ok(state !== undefined);
  assert.equal(describeTokenState(state), "failing (TOKEN_UNAVAILABLE ECONNREFUSED), next try 12:00:02 UTC");
});
