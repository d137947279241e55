// The user's servers: one ShopService, installed with @connectauth/server on each adapter as its README
// says (`auth.install({ routes })`).
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import {
  type JwtKeySource,
  type ServerAuthWarning,
  createJwtAuthenticator,
  createServerAuth,
  getAuth,
} from "@connectauth/server";
import express from "express";
import { fastify } from "fastify";
import { ShopService } from "./gen/shop/v1/shop_pb.js";
import { audience, issuer } from "./keys.mjs";

export type Protocol = "connect" | "grpc" | "grpc-web";

export interface RunningServer {
  readonly name: string;
  readonly baseUrl: string;
  readonly httpVersion: "1.1" | "2";
  readonly protocols: readonly Protocol[];
  /** What `onWarning` of this server's `createServerAuth` was told. */
  readonly warnings: readonly ServerAuthWarning[];
  close(): Promise<void>;
}

/** Where a server's authenticator gets its keys: the JWKS itself, or its URL on 127.0.0.1. */
export type Keys = { readonly jwks: JwtKeySource } | { readonly jwksUrl: URL };

function routes(router: ConnectRouter): void {
  router.service(ShopService, {
    getItem: (req, ctx) => ({ id: req.id, caller: getAuth(ctx)?.subject ?? "" }),
    async *listItems(req) {
      for (let i = 0; i < req.count; i++) yield { id: `item-${i}` };
    },
    deleteItem: () => ({}),
    ping: () => ({}),
  });
}

function createAuth(keys: Keys, warnings: ServerAuthWarning[]) {
  const jwt = createJwtAuthenticator(
    "jwks" in keys
      ? { issuer, audience, algorithms: ["ES256"], keys: keys.jwks }
      : { issuer, audience, algorithms: ["ES256"], keys: keys.jwksUrl, remote: { allowInsecureLoopback: true } },
  );
  return createServerAuth({
    authenticators: [jwt],
    realm: "shop",
    authorization: { services: [ShopService] },
    onWarning: (warning) => warnings.push(warning),
  });
}

/** `node:http2` (cleartext) with `connectNodeAdapter`: Connect, gRPC and gRPC-web. */
export async function startHttp2Server(keys: Keys): Promise<RunningServer> {
  const warnings: ServerAuthWarning[] = [];
  const auth = createAuth(keys, warnings);
  const server = http2.createServer(connectNodeAdapter(auth.install({ routes })));
  const closeSessions = trackSessions(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    name: "node:http2",
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    httpVersion: "2",
    protocols: ["connect", "grpc", "grpc-web"],
    warnings,
    close: () =>
      new Promise<void>((resolve) => {
        closeSessions();
        server.close(() => resolve());
      }),
  };
}

/** Fastify over HTTP/2 (cleartext) with `fastifyConnectPlugin`: Connect, gRPC and gRPC-web. */
export async function startFastifyServer(keys: Keys): Promise<RunningServer> {
  const warnings: ServerAuthWarning[] = [];
  const auth = createAuth(keys, warnings);
  const app = fastify({ http2: true });
  const closeSessions = trackSessions(app.server);
  await app.register(fastifyConnectPlugin, auth.install({ routes }));
  await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    name: "fastify",
    baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    httpVersion: "2",
    protocols: ["connect", "grpc", "grpc-web"],
    warnings,
    close: () => {
      closeSessions();
      return app.close();
    },
  };
}

/** Express on `node:http` (HTTP/1.1) with `expressConnectMiddleware`: Connect and gRPC-web. */
export async function startExpressServer(keys: Keys): Promise<RunningServer> {
  const warnings: ServerAuthWarning[] = [];
  const auth = createAuth(keys, warnings);
  const app = express();
  app.use(expressConnectMiddleware(auth.install({ routes })));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    name: "express",
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    httpVersion: "1.1",
    protocols: ["connect", "grpc-web"],
    warnings,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Ends the HTTP/2 sessions clients keep open (idle ones would hold `close` for their whole timeout). */
function trackSessions(server: http2.Http2Server): () => void {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  return () => {
    for (const s of sessions) s.destroy();
  };
}
