// The browser scenarios, run in Node from the same module (same generated stubs, same interceptors) with
// connect-node transports against the same example server: the browser suite must see the same.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { runScenarios, type ScenarioTokens } from "../../packages/example/src/web/scenarios.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { expectedResults } from "./expected.js";

let server: ExampleServer;
before(async () => {
  server = await startExampleServer({ webPage: true });
});
after(() => server.close());

test("Node (connect-node, Connect and gRPC-web over HTTP/1.1): the scenarios end as the contract says", async () => {
  // The same token endpoint as the page uses.
  const tokens = (await (await fetch(`${server.url}/demo/tokens`)).json()) as ScenarioTokens;
  const results = await runScenarios(
    (protocol, interceptors) =>
      protocol === "connect"
        ? createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors })
        : createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors }),
    tokens,
  );
  assert.deepEqual(results, expectedResults());
});
