import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { type ConnectRouter, cors } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type Authenticator,
  type DpopMode,
  type DpopOptions,
  type JwtKeySource,
  Health,
  createJwtAuthenticator,
  createServerAuth,
  healthRoutes,
} from "@connectauth/server";
import { type DevIssuer, createDevIssuer } from "@connectauth/node/dev";
import type { RedisRevocationList } from "@connectauth/node/redis";
import { greeterRoutes } from "./greeter-service.js";
import { type ExampleRedis, type ExampleRedisOptions, connectExampleRedis } from "./redis-fleet.js";
import type { NodeHandler } from "./node-handler.js";
import { GreeterService } from "./gen/example/v1/greeter_pb.js";
import { createWebPage } from "./web-page.js"; // the browser page

/** How the example server verifies tokens. */
export type ExampleAuthConfig =
  /** The embedded development issuer: keys made at start, JWKS served by this server. */
  | { readonly kind: "dev"; readonly audience?: string }
  /** Any issuer: tokens verified against its JWKS URL. */
  | {
      readonly kind: "external";
      readonly issuer: string;
      readonly audience: string;
      readonly jwksUrl: string;
      readonly algorithms?: readonly string[];
    }
  /** Your own authenticators (tests: API keys, remote JWKS, several issuers); the dev issuer is still started. */
  | { readonly kind: "authenticators"; readonly authenticators: (devIssuer: DevIssuer) => readonly Authenticator[] };

/** Options of {@link startExampleServer}. */
export interface ExampleServerOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default "127.0.0.1". */
  readonly host?: string;
  /** Default `{ kind: "dev" }`. */
  readonly auth?: ExampleAuthConfig;
  /** Also serve the browser page (`/`, `/app.js`, `/demo/tokens`; see web-page.ts). Default false. */
  readonly webPage?: boolean;
  /**
   * DPoP (RFC 9449) for the example's JWT authenticator: `"required"`, `"allowed"`, or the server's
   * `DpopOptions` (nonces, replay store, …). Default: off, bearer tokens only. Not with `auth: { kind:
   * "authenticators" }` (give your own authenticators their `dpop`).
   */
  readonly dpop?: DpopMode | DpopOptions;
  /** The JWT authenticator's `clockToleranceSeconds`. Default: the authenticator's (30). */
  readonly clockToleranceSeconds?: number;
  /**
   * A fleet on Redis: the JWT authenticator's revocation list is `createRedisRevocationList` on this
   * Redis (node-redis), and with `dpop` its replay store is `createRedisReplayStore`, so that servers
   * given the same Redis refuse each other's revoked tokens and replayed proofs. Default: none (no
   * revocation list, DPoP proofs remembered in memory). Not with `auth: { kind: "authenticators" }`.
   */
  readonly redis?: ExampleRedisOptions;
}

/** A running example server. */
export interface ExampleServer {
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  /** The embedded issuer, with `auth: { kind: "dev" }`. */
  readonly devIssuer: DevIssuer | undefined;
  /** The DPoP mode of its JWT authenticator, `"off"` without `dpop`. */
  readonly dpop: DpopMode | "off";
  /** `"redis"` with the `redis` option (revocations and DPoP proofs shared), else `"none"`. */
  readonly fleet: "redis" | "none";
  /** With `redis`: the shared revocation list (`revoke` here is refused by every server on that Redis). */
  readonly revocations: RedisRevocationList | undefined;
  /** Closes the server and, with `redis`, its Redis connections. */
  close(): Promise<void>;
}

/** Asymmetric algorithms accepted from an external issuer unless told otherwise. */
export const defaultExternalAlgorithms = ["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const;

/**
 * Starts the Greeter server on one port for all of Connect, gRPC and gRPC-web, over HTTP/2 cleartext
 * (prior knowledge) and HTTP/1.1, with CORS for browsers (`authorization` and `dpop` allowed,
 * `www-authenticate` and `dpop-nonce` exposed). It also serves `grpc.health.v1.Health` (Check, List,
 * Watch; public by a rule set in code): SERVING once the authenticator's keys are fetched and, with
 * `redis`, its revocation list is caught up; NOT_SERVING otherwise.
 *
 * ```ts
 * const server = await startExampleServer({ dpop: { mode: "allowed", nonce: { secret } } });
 * const token = await server.devIssuer!.mint({ subject: "alice", scopes: ["greet"], jkt });
 * ```
 *
 * Not checked: that the port is free before the dev issuer is made (listening fails first), nor that
 * Redis can be reached at start (the health service says NOT_SERVING until the list is caught up).
 *
 * @throws TypeError for `dpop` or `redis` with `auth: { kind: "authenticators" }`, `redis.url` that is
 *   not a redis:// or rediss:// URL, and what `createJwtAuthenticator`
 *   throws for its options (`dpop`, `clockToleranceSeconds`, `algorithms`), before anything listens.
 */
export async function startExampleServer(options: ExampleServerOptions = {}): Promise<ExampleServer> {
  const host = options.host ?? "127.0.0.1";
  const config = options.auth ?? { kind: "dev" };
  if (config.kind === "authenticators" && (options.dpop !== undefined || options.clockToleranceSeconds !== undefined)) {
    throw new TypeError(
      "startExampleServer: dpop and clockToleranceSeconds are for the example's JWT authenticator, not your own",
    );
  }
  if (config.kind === "authenticators" && options.redis !== undefined) {
    throw new TypeError("startExampleServer: redis is for the example's JWT authenticator, not your own");
  }
  const dpopMode = options.dpop === undefined ? "off" : typeof options.dpop === "string" ? options.dpop : options.dpop.mode;
  const sockets = new Set<net.Socket>();
  // The handler needs the issuer URL, which needs the port: it is set once the server listens.
  let handler: NodeHandler = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const dispatch: NodeHandler = (req, res) => handler(req, res);
  // Node keeps only the first of duplicate Authorization headers unless told to join them; joined, two
  // credentials are seen (and refused as MULTIPLE_CREDENTIALS) instead of one silently winning.
  const h1 = http.createServer({ joinDuplicateHeaders: true }, dispatch);
  const h2 = http2.createServer({}, dispatch);
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      // An HTTP/2 connection starts with the preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".
      if (chunk.subarray(0, 3).toString("latin1") === "PRI") {
        // The HTTP/2 session reads the unshifted bytes itself, then takes over the socket's handle.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let redis: ExampleRedis | undefined;
  const close = async () => {
    await new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    await redis?.close();
  };
  let devIssuer: DevIssuer | undefined;
  try {
    if (options.redis !== undefined) redis = await connectExampleRedis(options.redis, options.dpop !== undefined);
    devIssuer = await setUp();
  } catch (e) {
    await close(); // options the authenticator refused (a TypeError): nothing stays listening
    throw e;
  }

  /** The issuer, the authenticator and the handler, once the URL is known; the dev issuer if any. */
  async function setUp(): Promise<DevIssuer | undefined> {
    let devIssuer: DevIssuer | undefined;
    let keys: JwtKeySource;
    let issuer: string;
    let audience: string;
    let algorithms: readonly string[];
    let ownAuthenticators: readonly Authenticator[] | undefined;
    if (config.kind !== "external") {
      devIssuer = await createDevIssuer({
        issuer: url,
        audience: (config.kind === "dev" ? config.audience : undefined) ?? "greeter",
      });
      ({ issuer, audience } = devIssuer);
      keys = devIssuer.jwks;
      algorithms = ["ES256"];
      if (config.kind === "authenticators") ownAuthenticators = config.authenticators(devIssuer);
    } else {
      ({ issuer, audience } = config);
      keys = new URL(config.jwksUrl);
      algorithms = config.algorithms ?? defaultExternalAlgorithms;
    }
    const jwtOptions = {
      dpop: withReplayStore(options.dpop, redis),
      clockToleranceSeconds: options.clockToleranceSeconds,
      revocation: redis?.revocations,
    };
    const auth = createServerAuth({
      authenticators: ownAuthenticators ?? [
        createJwtAuthenticator({ issuer, audience, algorithms, keys, remote: { allowInsecureLoopback: true }, ...jwtOptions }),
      ],
      realm: "greeter",
      // The Greeter's rules live in greeter.proto; listing the services compiles their conditions at
      // start. The health service is public by a rule in code: a load balancer asks it with no token.
      authorization: { services: [GreeterService, Health], rules: { [Health.typeName]: { public: true } } },
    });
    const routes = auth.install({
      routes: (router: ConnectRouter) => {
        greeterRoutes(router);
        healthRoutes(router, { readiness: auth.readiness, services: [GreeterService.typeName] });
      },
    });
    const connect = connectNodeAdapter(routes);
    handler = withCors(withDevIssuerRoutes(connect, devIssuer));
    // --- the browser page, only when asked for ---
    if (options.webPage === true) {
      handler = (await createWebPage(devIssuer, dpopMode))(handler);
    }
    // --- end of the browser page ---
    return devIssuer;
  }

  return {
    url,
    devIssuer,
    dpop: dpopMode,
    fleet: redis === undefined ? "none" : "redis",
    revocations: redis?.revocations,
    close,
  };
}

/** The `dpop` option with the fleet's Redis replay store (unless one was given), or as it was. */
function withReplayStore(dpop: DpopMode | DpopOptions | undefined, redis: ExampleRedis | undefined) {
  if (dpop === undefined || redis?.replayStore === undefined) return dpop;
  const options = typeof dpop === "string" ? { mode: dpop } : dpop;
  return { replayStore: redis.replayStore, ...options };
}

function withDevIssuerRoutes(next: NodeHandler, devIssuer: DevIssuer | undefined): NodeHandler {
  if (devIssuer === undefined) return next;
  const documents: Record<string, string> = {
    "/.well-known/jwks.json": JSON.stringify(devIssuer.jwks),
    "/.well-known/openid-configuration": JSON.stringify(devIssuer.discovery),
  };
  return (req, res) => {
    const body = req.method === "GET" ? documents[req.url ?? ""] : undefined;
    if (body === undefined) return next(req, res);
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
    res.end(body);
  };
}

const allowedHeaders = [...cors.allowedHeaders, "Authorization", "DPoP"].join(", ");
const exposedHeaders = [...cors.exposedHeaders, "WWW-Authenticate", "DPoP-Nonce"].join(", ");
const allowedMethods = cors.allowedMethods.join(", ");

/**
 * CORS for browsers: any origin (the example holds no cookies), Authorization and DPoP allowed,
 * WWW-Authenticate and DPoP-Nonce exposed.
 */
function withCors(next: NodeHandler): NodeHandler {
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Expose-Headers", exposedHeaders);
      if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
        res.writeHead(204, {
          "Access-Control-Allow-Methods": allowedMethods,
          "Access-Control-Allow-Headers": allowedHeaders,
          "Access-Control-Max-Age": "7200",
        });
        res.end();
        return;
      }
    }
    next(req, res);
  };
}
