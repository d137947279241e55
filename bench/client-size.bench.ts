// Size budget of @connectauth/core + @connectauth/client as a browser app uses them: bundled and minified
// with esbuild, gzipped, excluding @connectrpc/* and @bufbuild/* (the app has those anyway).
//
// "Excluding connect and protobuf" is measured as what connectauth adds to an app that already has them:
// gzip(app with connectauth) - gzip(the same app without it). The app is a browser app of connect-web
// with its generated stubs (the example's GreeterService, whose proto declares connectauth rules, so its
// stubs bring the connectauth/v1/auth.proto descriptor) and the connect and protobuf functions connectauth
// calls. The budgeted app imports what the example's browser page imports. For information, the same
// bundle with @connectrpc/* and @bufbuild/* left out as externals: that figure also counts the import
// statements of the externals and the rule descriptor, which a real app bundle shares.
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { BenchModule, BenchResult } from "./result.js";

const budget = 3 * 1024;
const root = fileURLToPath(new URL("..", import.meta.url));

const baseApp = `
export { createClient, Code, ConnectError, createContextKey, createContextValues } from "@connectrpc/connect";
export { createAsyncIterable } from "@connectrpc/connect/protocol";
export { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
export { create, getOption, hasOption } from "@bufbuild/protobuf";
export { GreeterService } from "./packages/example/src/gen/example/v1/greeter_pb.js";
`;
const pageImports = `export { createAuthInterceptor, createCachedTokenSource, readAuthFailure } from "@connectauth/client";`;
const allImports = `export { createAuthInterceptor, createCachedTokenSource, withCallToken, readAuthFailure } from "@connectauth/client";`;
const minimalImports = `export { createAuthInterceptor, readAuthFailure } from "@connectauth/client";`;
const oauth2Imports = `export { createOAuth2TokenSource } from "@connectauth/client/oauth2";`;
const dpopImports = `export { createDpopProver } from "@connectauth/client/dpop";`;
const stateImports = `export { tokenSourceStateOf } from "@connectauth/client";`;

async function gzippedSize(contents: string, external: string[] = []): Promise<number> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external,
    logLevel: "silent",
  });
  return gzipSync(result.outputFiles[0]!.contents, { level: 9 }).length;
}

const bench: BenchModule = async () => {
  const base = await gzippedSize(baseApp);
  const added = async (imports: string) => (await gzippedSize(baseApp + imports)) - base;
  const page = await added(pageImports);
  const all = await added(allImports);
  const minimal = await added(minimalImports);
  const withOAuth2 = await added(allImports + oauth2Imports);
  const withDpop = await added(pageImports + dpopImports);
  const withState = await added(pageImports + stateImports);
  const standalone = await gzippedSize(allImports, ["@connectrpc/*", "@bufbuild/*"]);
  const row = (name: string, bytes: number, what: string, target?: string): BenchResult => ({
    name: `client size: ${name}`,
    ratio: bytes / budget,
    a: `${what} ${bytes} B gzip`,
    b: `budget ${budget} B`,
    ...(target === undefined ? {} : { target }),
  });
  return [
    row(
      "core+client as the example's browser page uses them, added to a connect-web app, vs 3 KB budget",
      page,
      "interceptor + cached source + failure reader",
      "<= 1",
    ),
    row("every browser export (with withCallToken), added to a connect-web app, for information", all, "all four"),
    row("the minimal app (interceptor + failure reader), added to a connect-web app, for information", minimal, "minimal"),
    row("every browser export bundled alone with connect and protobuf as externals, for information", standalone, "standalone"),
    row("with the OAuth2 entry (oauth4webapi), added to a connect-web app, for information", withOAuth2, "all four + oauth2"),
    row(
      "the example's page with the DPoP entry (the prover, its layer, jose's signing), added to a connect-web app, for information",
      withDpop,
      `page + dpop (DPoP adds ${withDpop - page} B)`,
    ),
    row(
      "the example's page with token-source state (tokenSourceStateOf), added to a connect-web app, for information",
      withState,
      `page + state (the state adds ${withState - page} B)`,
    ),
  ];
};
export default bench;
