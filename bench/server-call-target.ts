// The servers of server-call.bench.ts, in a child process so that their CPU time is measured apart
// from the client's: a Greeter behind the auth gate (JWT, cache on), and the same Greeter without auth.
// Speaks over IPC: sends { secured, open, token } once listening; answers "cpu" with process.cpuUsage().
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createDevIssuer } from "../packages/cli/src/dev-issuer.js";
import { greeterRoutes } from "../packages/example/src/greeter-service.js";

async function listen(handler: ReturnType<typeof connectNodeAdapter>): Promise<string> {
  const server = http2.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const issuer = await createDevIssuer({ issuer: "https://issuer.bench", audience: "greeter" });
const auth = createServerAuth({
  authenticators: [
    createJwtAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"], keys: issuer.jwks }),
  ],
});
const secured = await listen(
  connectNodeAdapter({ routes: greeterRoutes, requestGate: auth.requestGate, interceptors: [auth.interceptor] }),
);
const open = await listen(connectNodeAdapter({ routes: greeterRoutes }));
const token = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: 3600 });
process.on("message", (m) => {
  if (m === "cpu") process.send!(process.cpuUsage());
  if (m === "exit") process.exit(0);
});
process.send!({ secured, open, token });
