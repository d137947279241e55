// The servers of the server benches, in a child process so that their CPU time is measured apart from
// the client's: the same Greeter with no auth, behind connectauth (JWT, cache on), behind a hand-written
// jose interceptor (jwtVerify with createLocalJWKSet on every call, what users would otherwise write),
// and behind fast-jwt with its cache. Each listens twice: HTTP/2 cleartext and HTTP/1.1.
// Speaks over IPC: sends a Targets message once listening; answers "cpu" with process.cpuUsage(), and
// "profile-start" / "profile-stop" with the CPU share of the auth layer in between (cpu-share.ts).
import { createPublicKey } from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createVerifier } from "fast-jwt";
import { createLocalJWKSet, jwtVerify } from "jose";
import { createDevIssuer } from "@connectauth/node/dev";
import { greeterRoutes } from "../packages/example/src/greeter-service.js";
import { type Targets, type Variant, answerParent, variants } from "./server-measure.js";

type Handler = ReturnType<typeof connectNodeAdapter>;

async function listen(server: http.Server | http2.Http2Server, scheme = "http"): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const issuer = await createDevIssuer({ issuer: "https://issuer.bench", audience: "greeter" });
const verifyOptions = { issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"] };

const unauthenticated = () => new ConnectError("unauthenticated", Code.Unauthenticated);
/** A plain interceptor around a verify function: the Authorization header, Bearer, verify, or refuse. */
const verifying =
  (verify: (token: string) => Promise<unknown> | unknown): Interceptor =>
  (next) =>
  async (req) => {
    const header = req.header.get("authorization");
    if (header === null || !header.startsWith("Bearer ")) throw unauthenticated();
    try {
      await verify(header.slice(7));
    } catch {
      throw unauthenticated();
    }
    return next(req);
  };

const auth = createServerAuth({ authenticators: [createJwtAuthenticator({ ...verifyOptions, keys: issuer.jwks })] });
const localKeys = createLocalJWKSet(issuer.jwks);
const pem = createPublicKey({ key: issuer.jwks.keys[0]!, format: "jwk" }).export({ type: "spki", format: "pem" });
const fastJwt = createVerifier({
  key: pem.toString(),
  algorithms: ["ES256"],
  allowedIss: issuer.issuer,
  allowedAud: issuer.audience,
  cache: true,
});

type AdapterOptions = Parameters<typeof connectNodeAdapter>[0];
const options: Record<Variant, Omit<AdapterOptions, "routes">> = {
  none: {},
  connectauth: auth.install({}),
  jose: { interceptors: [verifying((t) => jwtVerify(t, localKeys, verifyOptions))] },
  "fast-jwt": { interceptors: [verifying((t) => fastJwt(t))] },
};

const h2 = {} as Record<Variant, string>;
const h1 = {} as Record<Variant, string>;
for (const v of variants) {
  const handler: Handler = connectNodeAdapter({ routes: greeterRoutes, ...options[v] });
  h2[v] = await listen(http2.createServer(handler));
  h1[v] = await listen(http.createServer({ keepAlive: true }, handler));
}
const token = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: 3600 });
const targets: Targets = { secured: h2.connectauth, open: h2.none, h2, h1, token };
answerParent(targets);
