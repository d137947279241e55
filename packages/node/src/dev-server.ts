// The development issuer of `@connectauth/node/dev` over HTTP (node:http): JWKS, discovery, a
// client_credentials token endpoint and the development mint that `connectauth token mint` asks.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { createMemoryReplayStore } from "@connectauth/server";
import { type DpopProofVerifier, createDpopProofVerifier } from "@connectauth/server/protocol";
import { type DevIssuer, createDevIssuer, isJwkThumbprint } from "./dev-issuer.js";

/**
 * The defaults of {@link startDevServer} and of `connectauth dev`: names that belong to no project, so
 * that a server configured for them says it trusts a development issuer.
 *
 * ```ts
 * const dev = await startDevServer();
 * createJwtAuthenticator({ issuer: dev.url, audience: devDefaults.audience, algorithms: ["ES256"], keys: dev.issuer.jwks });
 * ```
 */
export const devDefaults = {
  /** The `aud` of issued tokens. */
  audience: "dev-api",
  clientId: "dev-client",
  clientSecret: "dev-secret",
  /** Lifetime of issued tokens, in seconds. */
  ttlSeconds: 3600,
} as const;

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Default `"127.0.0.1"`. Keep it on loopback: anyone who reaches it can mint tokens. */
  readonly host?: string;
  /** The `aud` of issued tokens. Default `"dev-api"` ({@link devDefaults}). */
  readonly audience?: string;
  /** The one OAuth client of the token endpoint. Default `"dev-client"`. */
  readonly clientId?: string;
  /** Its secret. Default `"dev-secret"`. */
  readonly clientSecret?: string;
  /** Scopes granted by `client_credentials` when the request names none. Default none. */
  readonly defaultScopes?: readonly string[];
  /** Lifetime of issued tokens, in seconds. Default 3600. */
  readonly ttlSeconds?: number;
  /** The current time in ms, for its tokens and the DPoP proofs of token requests. Default `Date.now`. */
  readonly now?: () => number;
}

/** A running development issuer. */
export interface DevServer {
  /** Its URL, which is also the `iss` of its tokens, e.g. `http://127.0.0.1:8181`. */
  readonly url: string;
  readonly issuer: DevIssuer;
  close(): Promise<void>;
}

/**
 * Starts a local development issuer over HTTP: the JWKS (`/.well-known/jwks.json`), the discovery
 * documents (`/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`), a token
 * endpoint for the `client_credentials` grant (RFC 6749 §4.4, client authentication
 * `client_secret_basic` or `client_secret_post`) at `/token`, and a development mint at `POST /dev/mint`
 * (JSON `{ sub, scope, ttl, aud, jkt }`, used by `connectauth token mint`). For development only: anyone
 * who reaches it can mint tokens, so it listens on 127.0.0.1 unless told otherwise.
 *
 * DPoP (RFC 9449 §5): a token request with one valid `DPoP` proof gets a token bound to the proof's key
 * (`token_type: "DPoP"`, `cnf.jkt` its thumbprint), as `createOAuth2TokenSource({ dpop })` of
 * `@connectauth/client/oauth2` asks; an invalid proof is a 400 `invalid_dpop_proof`. The proof is checked
 * as `@connectauth/server` checks proofs (`typ` `dpop+jwt`, an asymmetric `alg`, a public `jwk` that
 * verifies it, `htm` `POST`, `htu` the token endpoint, `iat` within 60 s, its `jti` once, in memory),
 * with no `ath`: a token request has no access token.
 *
 * ```ts
 * import { startDevServer } from "@connectauth/node/dev";
 *
 * const dev = await startDevServer({ port: 8181, defaultScopes: ["greet"] });
 * // POST http://127.0.0.1:8181/token, grant_type=client_credentials, dev-client:dev-secret: a token for "dev-api"
 * await dev.close();
 * ```
 *
 * Not implemented: other grants, refresh tokens, client registration, `private_key_jwt`, DPoP nonces.
 * Not checked: that `host` is a loopback address (servers accept an http JWKS from loopback only); a
 * proof's `ath` (a token request carries no token).
 *
 * @throws TypeError on a port that is not 0–65535, a lifetime that is not a positive whole number of
 * seconds, an empty host, audience, client id or secret, or a `now` that is not a function.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const clientId = options.clientId ?? devDefaults.clientId;
  const clientSecret = options.clientSecret ?? devDefaults.clientSecret;
  const audience = options.audience ?? devDefaults.audience;
  const ttlSeconds = options.ttlSeconds ?? devDefaults.ttlSeconds;
  const defaultScopes = [...(options.defaultScopes ?? [])];
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError("startDevServer: now must be a function returning the time in ms");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError("startDevServer: port must be a whole number from 0 to 65535 (0: any free port)");
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError("startDevServer: ttlSeconds must be a positive whole number of seconds");
  }
  for (const [name, value] of [
    ["host", host],
    ["audience", audience],
    ["clientId", clientId],
    ["clientSecret", clientSecret],
  ] as const) {
    if (typeof value !== "string" || value === "") throw new TypeError(`startDevServer: ${name} must be a non-empty string`);
  }
  // The issuer's URL holds the port, known once listening: until the key is made, requests get a 503.
  let respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) =>
    send(res, 503, { error: "temporarily_unavailable" });
  const server = http.createServer((req, res) => respond(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const issuer = await createDevIssuer({ issuer: url, audience, now });
  const tokenEndpoint = `${url}/token`;
  // The server's own proof checks, with no access token (so no ath) and a window of 60 s.
  const proofs = createDpopProofVerifier({
    algorithms: dpopAlgorithms,
    iatWindowSeconds: 60,
    replayStore: createMemoryReplayStore({ maxEntries: 10_000, now }),
    now,
  });
  const discovery = {
    ...issuer.discovery,
    token_endpoint: tokenEndpoint,
    grant_types_supported: ["client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    id_token_signing_alg_values_supported: ["ES256"],
    dpop_signing_alg_values_supported: [...dpopAlgorithms],
  };
  respond = (req, res) => void handle(req, res).catch(() => send(res, 500, { error: "server_error" }));

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", url).pathname;
    if (req.method === "GET" && path === "/.well-known/jwks.json") return send(res, 200, issuer.jwks);
    if (
      req.method === "GET" &&
      (path === "/.well-known/openid-configuration" || path === "/.well-known/oauth-authorization-server")
    ) {
      return send(res, 200, discovery);
    }
    if (req.method === "POST" && path === "/token") {
      const form = new URLSearchParams(await readBody(req));
      const client = clientOf(req.headers.authorization, form);
      if (client === "invalid_request") {
        return send(res, 400, { error: "invalid_request", error_description: "use one client authentication method" });
      }
      if (client === undefined || !same(client.id, clientId) || !same(client.secret, clientSecret)) {
        const header: Record<string, string> =
          req.headers.authorization === undefined ? {} : { "www-authenticate": 'Basic realm="connectauth dev"' };
        return send(res, 401, { error: "invalid_client" }, header);
      }
      if (form.get("grant_type") !== "client_credentials") {
        return send(res, 400, { error: "unsupported_grant_type" });
      }
      // RFC 9449 §5: a token request with a DPoP proof gets a token bound to its key, or a 400.
      const jkt = await dpopKeyOf(req, tokenEndpoint, proofs);
      if (jkt === null) {
        return send(res, 400, { error: "invalid_dpop_proof", error_description: "the DPoP proof is not valid for this request" });
      }
      const requested = (form.get("scope") ?? "").split(" ").filter((s) => s !== "");
      const scopes = requested.length > 0 ? requested : [...defaultScopes];
      const token = await issuer.mint({ subject: clientId, scopes, ttlSeconds, claims: { client_id: clientId }, jkt });
      const tokenType = jkt === undefined ? "Bearer" : "DPoP";
      return send(res, 200, { access_token: token, token_type: tokenType, expires_in: ttlSeconds, scope: scopes.join(" ") });
    }
    if (req.method === "POST" && path === "/dev/mint") {
      let body: { sub?: unknown; scope?: unknown; ttl?: unknown; aud?: unknown; jkt?: unknown };
      try {
        body = JSON.parse(await readBody(req)) as typeof body;
      } catch {
        return send(res, 400, { error: "invalid_request", error_description: "a JSON body is expected" });
      }
      if (typeof body.sub !== "string" || body.sub === "") {
        return send(res, 400, { error: "invalid_request", error_description: "sub is required" });
      }
      if (body.jkt !== undefined && !isJwkThumbprint(body.jkt)) {
        return send(res, 400, { error: "invalid_request", error_description: "jkt must be a JWK SHA-256 thumbprint" });
      }
      const token = await issuer.mint({
        subject: body.sub,
        scopes: typeof body.scope === "string" ? body.scope.split(" ").filter((s) => s !== "") : [],
        ttlSeconds: typeof body.ttl === "number" ? body.ttl : ttlSeconds,
        audience: typeof body.aud === "string" ? body.aud : undefined,
        jkt: body.jkt,
      });
      return send(res, 200, { access_token: token, token_type: body.jkt === undefined ? "Bearer" : "DPoP" });
    }
    send(res, 404, { error: "not_found" });
  }

  return {
    url,
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The proof algorithms the token endpoint takes: asymmetric JWS algorithms only (RFC 9449 §4.2). */
const dpopAlgorithms = ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"] as const;
/**
 * The thumbprint (RFC 7638) of the key of a token request's DPoP proof: `undefined` without a `DPoP`
 * header, `null` for anything but one proof of this request that passes the server's checks.
 */
async function dpopKeyOf(
  req: http.IncomingMessage,
  tokenEndpoint: string,
  proofs: DpopProofVerifier,
): Promise<string | null | undefined> {
  const headers = req.headersDistinct["dpop"];
  if (headers === undefined) return undefined;
  const [proof] = headers;
  if (headers.length !== 1 || proof === undefined) return null;
  const checked = await proofs.verify({ proof, httpMethod: "POST", url: tokenEndpoint, scope: "token" });
  return checked.ok ? checked.jkt : null;
}

/** The client of a token request: `client_secret_basic` (RFC 6749 §2.3.1) or `client_secret_post`. */
function clientOf(
  authorization: string | undefined,
  form: URLSearchParams,
): { id: string; secret: string } | "invalid_request" | undefined {
  const posted = form.has("client_id") || form.has("client_secret");
  if (authorization !== undefined) {
    if (posted) return "invalid_request";
    const match = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(authorization);
    if (match === null) return undefined;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    // Both parts are form-urlencoded before encoding (RFC 6749 §2.3.1).
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    try {
      return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
    } catch {
      return undefined;
    }
  }
  const id = form.get("client_id");
  const secret = form.get("client_secret");
  return id === null || secret === null ? undefined : { id, secret };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 65536) throw new Error("body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}
