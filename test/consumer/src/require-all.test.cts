// A CommonJS file of the user's app (compiled to require-all.test.cjs): `require()` of every package and
// entry point (require(esm): Node 20.19+, 22.12+, 24), typed by TypeScript's own resolution, then a call
// through connect's CommonJS build, which sits beside the ES module build our packages import.
import assert = require("node:assert/strict");
import http2 = require("node:http2");
import nodeTest = require("node:test");
import connect = require("@connectrpc/connect");
import connectNode = require("@connectrpc/connect-node");
import core = require("@connectauth/core");
import coreProtocol = require("@connectauth/core/protocol");
import authRules = require("@connectauth/core/gen/connectauth/v1/auth_pb.js");
import errorDetails = require("@connectauth/core/gen/google/rpc/error_details_pb.js");
import client = require("@connectauth/client");
import oauth2 = require("@connectauth/client/oauth2");
import dpop = require("@connectauth/client/dpop");
import server = require("@connectauth/server");
import serverPino = require("@connectauth/server/pino");
import serverOtel = require("@connectauth/server/otel");
import serverProtocol = require("@connectauth/server/protocol");
import nodePkg = require("@connectauth/node");
import nodeDev = require("@connectauth/node/dev");
import nodeRedis = require("@connectauth/node/redis");
import cli = require("@connectauth/cli");
import shop = require("./gen/shop/v1/shop_pb.js");
import keySet = require("./keys.mjs");

const { describe, test } = nodeTest;

// The generated code is an ES module, typed with the ES module declarations of @bufbuild/protobuf;
// connect's CommonJS build is typed with the CommonJS ones, and TypeScript keeps the two apart, so the
// messages of this file are typed by hand (at run time both builds read the same descriptors).
type Item = { readonly id: string; readonly caller: string };

describe("require() from CommonJS", () => {
  test("every package and entry point loads, with its exports", () => {
    const exports: Array<[string, unknown]> = [
      ["@connectauth/core readAuthFailure", core.readAuthFailure],
      ["@connectauth/core/protocol clientRefusal", coreProtocol.clientRefusal],
      ["@connectauth/core/gen/connectauth/v1/auth_pb.js method_rule", authRules.method_rule],
      ["@connectauth/core/gen/google/rpc/error_details_pb.js ErrorInfoSchema", errorDetails.ErrorInfoSchema],
      ["@connectauth/client createAuthInterceptor", client.createAuthInterceptor],
      ["@connectauth/client/oauth2 createOAuth2TokenSource", oauth2.createOAuth2TokenSource],
      ["@connectauth/client/dpop createDpopProver", dpop.createDpopProver],
      ["@connectauth/server createServerAuth", server.createServerAuth],
      ["@connectauth/server/pino createPinoDecisionListener", serverPino.createPinoDecisionListener],
      ["@connectauth/server/otel createOtelDecisionListener", serverOtel.createOtelDecisionListener],
      ["@connectauth/server/protocol headerValueCountKey", serverProtocol.headerValueCountKey],
      ["@connectauth/node createCertificateAuthenticator", nodePkg.createCertificateAuthenticator],
      ["@connectauth/node/dev createDevIssuer", nodeDev.createDevIssuer],
      ["@connectauth/node/redis createRedisRevocationList", nodeRedis.createRedisRevocationList],
      ["@connectauth/node/redis createRedisReplayStore", nodeRedis.createRedisReplayStore],
      ["@connectauth/cli diagnose", cli.diagnose],
    ];
    for (const [name, value] of exports) assert.notEqual(value, undefined, name);
    assert.equal(core.requiredScopesOf(shop.ShopService.method.deleteItem).allScopes[0], "items.write");
  });

  test("a call through connect's CommonJS build: allowed, and a typed refusal", async () => {
    const keys = await keySet.createKeySet();
    const auth = server.createServerAuth({
      authenticators: [
        server.createJwtAuthenticator({
          issuer: keySet.issuer,
          audience: keySet.audience,
          algorithms: ["ES256"],
          keys: keys.jwks,
        }),
      ],
      onWarning: () => {},
    });
    const h2 = http2.createServer(
      connectNode.connectNodeAdapter({
        // In CommonJS TypeScript, routes typed by the adapter itself: connect's CJS types are not its ESM ones.
        ...auth.install(),
        routes: (router) =>
          router.service(shop.ShopService, {
            getItem: (req, ctx) => ({ id: (req as unknown as Item).id, caller: server.getAuth(ctx)?.subject ?? "" }),
            listItems: async function* () {},
            deleteItem: () => ({}),
            ping: () => ({}),
          }),
      }),
    );
    await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
    const sessions = new Set<http2.ServerHttp2Session>();
    h2.on("session", (s) => sessions.add(s));
    try {
      const port = (h2.address() as { port: number }).port;
      const transport = connectNode.createGrpcTransport({
        baseUrl: `http://127.0.0.1:${port}`,
        interceptors: [client.createAuthInterceptor({ token: await keys.mint("bob", ["items.read"]) })],
      });
      const shopClient = connect.createClient(shop.ShopService, transport);
      assert.equal(((await shopClient.getItem({ id: "1" })) as unknown as Item).caller, "bob");
      const err = await shopClient.deleteItem({ id: "1" }).then(
        () => assert.fail("allowed without items.write"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof connect.ConnectError);
      assert.equal(err.code, connect.Code.PermissionDenied);
      assert.equal(client.readAuthFailure(err)?.reason, "INSUFFICIENT_SCOPE");
    } finally {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    }
  });
});
