// The Node server setups connectauth supports, each started on 127.0.0.1:0 with the same Connect
// options: connectNodeAdapter on http (HTTP/1.1), http2 cleartext and http2 over TLS, Fastify (HTTP/2
// cleartext) and Express (HTTP/1.1). gRPC needs HTTP/2, so the HTTP/1.1 setups serve Connect and gRPC-web.
// headerVariantSetups adds two that differ only in Node's handling of request headers.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import type * as net from "node:net";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import { type FastifyInstance, fastify } from "fastify";
import express from "express";

export type Protocol = "connect" | "grpc" | "grpc-web";

/** TLS options of a server: its certificate and key, and for mTLS the CA and `requestCert`. */
export interface ServerTls {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly requestCert?: boolean;
  readonly rejectUnauthorized?: boolean;
}

/** What every setup is started with. */
export interface ServeOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly requestGate?: Parameters<typeof connectNodeAdapter>[0]["requestGate"];
  readonly interceptors?: Interceptor[];
  readonly contextValues?: (req: { readonly socket?: unknown }) => ContextValues;
  /** Required by setups whose `tls` is `"always"`, refused by those whose `tls` is `"never"`. */
  readonly tls?: ServerTls;
}

/** A running server. */
export interface RunningServer {
  /** `http://127.0.0.1:N` or `https://127.0.0.1:N`. */
  readonly url: string;
  /**
   * Body bytes the server read from the socket between the request headers and the end of the
   * response, for the last request: the measure of "rejected before the body was read".
   */
  lastRequestBytesRead(): Promise<number> | undefined;
  close(): Promise<void>;
}

export interface Setup {
  readonly name: string;
  /** The HTTP version the clients use. */
  readonly httpVersion: "1.1" | "2";
  readonly protocols: readonly Protocol[];
  /** Whether the setup runs over TLS: always, never, or when given `tls`. */
  readonly tls: "always" | "never" | "optional";
  start(options: ServeOptions): Promise<RunningServer>;
}

const all: readonly Protocol[] = ["connect", "grpc", "grpc-web"];
const http1Only: readonly Protocol[] = ["connect", "grpc-web"];

function adapter(options: ServeOptions) {
  return connectNodeAdapter({
    routes: options.routes,
    requestGate: options.requestGate,
    interceptors: options.interceptors,
    contextValues: options.contextValues,
  });
}

export const setups: readonly Setup[] = [
  {
    name: "connectNodeAdapter on http (HTTP/1.1)",
    httpVersion: "1.1",
    protocols: http1Only,
    tls: "optional",
    start: (o) =>
      listen(
        o.tls === undefined
          ? http.createServer({ joinDuplicateHeaders: true }, adapter(o))
          : https.createServer({ ...o.tls, joinDuplicateHeaders: true }, adapter(o)),
        o.tls !== undefined,
      ),
  },
  {
    name: "connectNodeAdapter on http2 cleartext",
    httpVersion: "2",
    protocols: all,
    tls: "never",
    start: (o) => listen(http2.createServer(adapter(o)), false),
  },
  {
    name: "connectNodeAdapter on http2 over TLS",
    httpVersion: "2",
    protocols: all,
    tls: "always",
    start: (o) => listen(http2.createSecureServer({ ...o.tls!, allowHTTP1: true }, adapter(o)), true),
  },
  {
    name: "Fastify (HTTP/2)",
    httpVersion: "2",
    protocols: all,
    tls: "optional",
    start: (o) =>
      // One type for both (the plugin is typed for Fastify's default server; it only uses the raw request).
      startFastify(
        o,
        (o.tls === undefined
          ? fastify({ http2: true })
          : fastify({ http2: true, https: { ...o.tls, allowHTTP1: true } })) as unknown as FastifyInstance,
      ),
  },
  {
    name: "Express (HTTP/1.1)",
    httpVersion: "1.1",
    protocols: http1Only,
    tls: "optional",
    start(o) {
      const app = express();
      app.use(
        expressConnectMiddleware({
          routes: o.routes,
          requestGate: o.requestGate,
          interceptors: o.interceptors,
          contextValues: o.contextValues,
        }),
      );
      return listen(o.tls === undefined ? http.createServer(app) : https.createServer(o.tls, app), o.tls !== undefined);
    },
  },
];

/**
 * Setups the shared suite does not run: they differ from the ones above only in how Node hands over
 * request headers (node:http with its default options, without `joinDuplicateHeaders`; Fastify over
 * HTTP/1.1), which is what test/server/duplicate-headers.test.ts is about.
 */
export const headerVariantSetups: readonly Setup[] = [
  {
    name: "connectNodeAdapter on http, default options (HTTP/1.1)",
    httpVersion: "1.1",
    protocols: http1Only,
    tls: "never",
    start: (o) => listen(http.createServer(adapter(o)), false),
  },
  {
    name: "Fastify (HTTP/1.1)",
    httpVersion: "1.1",
    protocols: http1Only,
    tls: "never",
    start: (o) => startFastify(o, fastify()),
  },
];

async function startFastify(o: ServeOptions, app: FastifyInstance): Promise<RunningServer> {
  await app.register(fastifyConnectPlugin, {
    routes: o.routes,
    requestGate: o.requestGate,
    interceptors: o.interceptors,
    contextValues: o.contextValues,
  });
  await app.ready();
  return listen(app.server as unknown as net.Server, o.tls !== undefined, () => app.close());
}

async function listen(server: net.Server, secure: boolean, close?: () => Promise<unknown>): Promise<RunningServer> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  let last: Promise<number> | undefined;
  server.on("request", (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse) => {
    // HTTP/2: the session's socket (the stream's socket proxy is gone once the stream has closed).
    const socket = ("stream" in req ? req.stream.session!.socket : req.socket) as net.Socket;
    const start = socket.bytesRead;
    // Measured when the response is done (a client may see a gRPC status before the server's "finish").
    last = new Promise((resolve) => {
      const done = () => {
        try {
          resolve(socket.bytesRead - start);
        } catch {
          resolve(Number.NaN); // the HTTP/2 session is gone (server closing): no measure
        }
      };
      res.once("finish", done);
      res.once("close", done);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `${secure ? "https" : "http"}://127.0.0.1:${port}`,
    lastRequestBytesRead: () => last,
    async close() {
      for (const s of sockets) s.destroy();
      if (close !== undefined) await close();
      else await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
