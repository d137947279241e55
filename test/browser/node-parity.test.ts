// The browser scenarios, run in Node from the same module (same generated stubs, same interceptors) with
// connect-node transports against the same example server: the browser suite must see the same.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createDpopProver } from "@connectauth/client/dpop";
import { runScenarios, type ScenarioTokens } from "../../packages/example/src/web/scenarios.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { expectedResults, pageServerOptions } from "./expected.js";

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
  const results = await runScenarios(
    (protocol, interceptors) =>
      protocol === "connect"
        ? createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors })
        : createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors }),
    tokens,
    undefined,
    keyPair,
  );
  assert.deepEqual(results, expectedResults());
});
