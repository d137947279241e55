// Size budget of @connectauth/core + @connectauth/client as a browser app uses them: bundled and minified
// with esbuild, gzipped, excluding @connectrpc/* and @bufbuild/* (the app has those anyway). The ratio is
// the size against the 3 KB budget: <= 1.00 is within it. The OAuth2 entry (oauth4webapi) is reported
// apart: it is a separate import that an app which gets its tokens otherwise does not bundle.
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { BenchModule, BenchResult } from "./result.js";

const budget = 3 * 1024;
const root = fileURLToPath(new URL("..", import.meta.url));

async function gzippedSize(contents: string): Promise<number> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external: ["@connectrpc/*", "@bufbuild/*"],
    logLevel: "silent",
  });
  return gzipSync(result.outputFiles[0]!.contents, { level: 9 }).length;
}

const bench: BenchModule = async () => {
  const browserApp = await gzippedSize(
    `export { createAuthInterceptor, createCachedTokenSource, withCallToken, readClientAuthFailure } from "@connectauth/client";`,
  );
  const coreShare = await gzippedSize(
    `export { readAuthFailure, ruleOf, isTokenReason, Reason, ErrorInfoSchema, authorizationHeader } from "@connectauth/core";`,
  );
  const minimalApp = await gzippedSize(
    `export { createAuthInterceptor, readClientAuthFailure } from "@connectauth/client";`,
  );
  const withOAuth2 = await gzippedSize(
    `export { createAuthInterceptor, readClientAuthFailure } from "@connectauth/client";\n` +
      `export { createOAuth2TokenSource } from "@connectauth/client/oauth2";`,
  );
  const results: BenchResult[] = [
    {
      name: "client size: core+client min+gzip vs 3 KB budget",
      ratio: browserApp / budget,
      a: `core+client ${browserApp} B gzip`,
      b: `budget ${budget} B`,
      target: "<= 1",
    },
    {
      name: "client size: the minimal app (interceptor + failure reader) vs 3 KB budget, for information",
      ratio: minimalApp / budget,
      a: `core+client minimal ${minimalApp} B gzip`,
      b: `budget ${budget} B`,
    },
    {
      name: "client size: the core part alone (reasons, challenge parser, generated descriptors) vs 3 KB budget",
      ratio: coreShare / budget,
      a: `core as used by the client ${coreShare} B gzip`,
      b: `budget ${budget} B`,
    },
    {
      name: "client size: with the OAuth2 entry (oauth4webapi) vs 3 KB budget, for information",
      ratio: withOAuth2 / budget,
      a: `core+client+oauth2 ${withOAuth2} B gzip`,
      b: `budget ${budget} B`,
    },
  ];
  return results;
};
export default bench;
