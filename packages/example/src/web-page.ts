import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { DevIssuer } from "@connectauth/node/dev";
import type { NodeHandler } from "./node-handler.js";

const webDir = fileURLToPath(new URL("./web/", import.meta.url));

/**
 * The browser page of the example: `/` (HTML), `/app.js` (src/web/app.ts bundled by esbuild with the
 * generated stubs, @connectauth/client and @connectrpc/connect-web) and, with the development issuer,
 * `/demo/tokens` (a valid and an expired token with scope `greet`, minted per request). Anything else goes
 * to `next`.
 *
 * ```ts
 * const page = await createWebPage(devIssuer);
 * http.createServer(page(connectHandler));
 * ```
 */
export async function createWebPage(devIssuer: DevIssuer | undefined): Promise<(next: NodeHandler) => NodeHandler> {
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
    const path = req.method === "GET" ? (req.url ?? "").split("?")[0] : undefined;
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    } else if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(bundle);
    } else if (path === "/demo/tokens" && devIssuer !== undefined) {
      void Promise.all([
        devIssuer.mint({ subject: "browser-user", scopes: ["greet"], ttlSeconds: 300 }),
        devIssuer.mint({ subject: "browser-user", scopes: ["greet"], ttlSeconds: -60 }),
      ]).then(([greet, expired]) => {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify({ greet, expired }));
      });
    } else {
      next(req, res);
    }
  };
}
