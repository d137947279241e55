// A key server on 127.0.0.1 for tests: serves a JWKS and an OpenID discovery document, counts the
// requests, and can be made to fail (HTTP 500, a dropped connection, slowness, invalid documents).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONWebKeySet } from "jose";

/** How the key server answers. */
export type KeyServerMode = "ok" | "500" | "drop" | "slow" | "not-json" | "bad-jwks";

export interface KeyServer {
  /** `http://127.0.0.1:N`, also the issuer of the discovery document unless told otherwise. */
  readonly url: string;
  readonly jwksUrl: URL;
  /** Requests seen, by path. */
  readonly requests: { jwks: number; discovery: number; other: number };
  mode: KeyServerMode;
  /** The delay of the "slow" mode, ms. */
  slowMs: number;
  jwks: JSONWebKeySet;
  /** The `issuer` the discovery document names. Default: `url`. */
  discoveredIssuer: string | undefined;
  close(): Promise<void>;
}

export async function startKeyServer(jwks: JSONWebKeySet): Promise<KeyServer> {
  const sockets = new Set<import("node:net").Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state: KeyServer = {
    url: "",
    jwksUrl: new URL("http://127.0.0.1/"),
    requests: { jwks: 0, discovery: 0, other: 0 },
    mode: "ok",
    slowMs: 2000,
    jwks,
    discoveredIssuer: undefined,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const path = req.url ?? "";
    let body: string;
    if (path === "/jwks.json") {
      state.requests.jwks++;
      body = JSON.stringify(state.jwks);
    } else if (path === "/.well-known/openid-configuration") {
      state.requests.discovery++;
      body = JSON.stringify({ issuer: state.discoveredIssuer ?? state.url, jwks_uri: `${state.url}/jwks.json` });
    } else {
      state.requests.other++;
      res.writeHead(404).end();
      return;
    }
    switch (state.mode) {
      case "500":
        res.writeHead(500).end("down");
        return;
      case "drop":
        req.socket.destroy();
        return;
      case "slow": {
        const t = setTimeout(() => {
          timers.delete(t);
          res.writeHead(200, { "content-type": "application/json" }).end(body);
        }, state.slowMs);
        timers.add(t);
        return;
      }
      case "not-json":
        res.writeHead(200, { "content-type": "application/json" }).end("{ not json");
        return;
      case "bad-jwks":
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: "none" }));
        return;
      case "ok":
        res.writeHead(200, { "content-type": "application/json" }).end(body);
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return Object.assign(state, { url, jwksUrl: new URL(`${url}/jwks.json`) });
}
