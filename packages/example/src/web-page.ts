import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type DevIssuer, isJwkThumbprint } from "@connectauth/node/dev";
import type { DpopMode } from "@connectauth/server";
import type { NodeHandler } from "./node-handler.js";

const webDir = fileURLToPath(new URL("./web/", import.meta.url));

/**
 * The browser page of the example: `/` (HTML), `/app.js` (src/web/app.ts bundled by esbuild with the
 * generated stubs, @connectauth/client and @connectrpc/connect-web) and, with the development issuer,
 * `/demo/tokens` (a valid and an expired token with scope `greet`, minted per request, and the server's
 * DPoP mode; with `?jkt=<thumbprint>` and DPoP on, also a token bound to that key, `dpop`). Anything
 * else goes to `next`.
 *
 * ```ts
 * const page = await createWebPage(devIssuer, "allowed");
 * http.createServer(page(connectHandler));
 * ```
 *
 * Not checked: that whoever asks for a bound token holds the key (a development issuer mints for anyone
 * who reaches it); a `jkt` is checked for its form only (else a 400).
 */
export async function createWebPage(
  devIssuer: DevIssuer | undefined,
  dpop: DpopMode | "off" = "off",
): Promise<(next: NodeHandler) => NodeHandler> {
  const [html, bundle] = await Promise.all([
    readFile(`${webDir}index.html`, "utf8"),
    build({
      entryPoints: [`${webDir}app.ts`],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    }).then((r) => r.outputFiles[0].text),
  ]);
  return (next) => (req, res) => {
    const url = req.method === "GET" ? new URL(req.url ?? "/", "http://page") : undefined;
    const path = url?.pathname;
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    } else if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(bundle);
    } else if (path === "/demo/tokens" && devIssuer !== undefined) {
      const jkt = url?.searchParams.get("jkt") ?? undefined;
      if (jkt !== undefined && !isJwkThumbprint(jkt)) {
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("jkt must be a JWK SHA-256 thumbprint");
        return;
      }
      void Promise.all([
        devIssuer.mint({ subject: "browser-user", scopes: ["greet"], ttlSeconds: 300 }),
        devIssuer.mint({ subject: "browser-user", scopes: ["greet"], ttlSeconds: -60 }),
        jkt === undefined || dpop === "off"
          ? undefined
          : devIssuer.mint({ subject: "browser-user", scopes: ["greet"], ttlSeconds: 300, jkt }),
      ]).then(([greet, expired, bound]) => {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify({ greet, expired, dpopMode: dpop, ...(bound === undefined ? {} : { dpop: bound }) }));
      });
    } else {
      next(req, res);
    }
  };
}
