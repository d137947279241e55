// Two credentials in two header fields of the same name, sent as such on the wire (raw clients), on every
// Node server setup: what connect's `Headers` shows without help (Node folds them first), and that with
// the nodeContextValues hook of @connectauth/node two are MULTIPLE_CREDENTIALS over every protocol.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { createApiKeyAuthenticator, createJwtAuthenticator, createServerAuth, hashApiKey } from "@connectauth/server";
import { nodeContextValues } from "@connectauth/node";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type DevIssuer, createDevIssuer } from "@connectauth/node/dev";
import { createTestPki, type TestPki } from "../support/certs.js";
import { type RawHeaderFields, type RawTarget, rawUnary } from "./adapters/raw-wire.js";
import { type RunningServer, type ServeOptions, type Setup, headerVariantSetups, setups } from "./adapters/setups.js";

const greetPath = "/example.v1.GreeterService/Greet";
const pingPath = "/example.v1.GreeterService/Ping";
const allSetups = [...headerVariantSetups, ...setups];
// The one setup that turns on `joinDuplicateHeaders`: it joins two Authorization values with ", ".
const joining = setups.find((s) => s.name === "connectNodeAdapter on http (HTTP/1.1)")!;
assert.ok(joining, "the node:http setup with joinDuplicateHeaders");

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

async function start(setup: Setup, options: Omit<ServeOptions, "tls">): Promise<{ server: RunningServer; target: RawTarget }> {
  const secure = setup.tls === "always";
  const server = await setup.start({ ...options, tls: secure ? pki.server.tls : undefined });
  return { server, target: { url: server.url, httpVersion: setup.httpVersion, ca: secure ? pki.ca.certPem : undefined } };
}

const twice = (name: string, first: string, second: string): RawHeaderFields => [
  [name, first],
  [name === "authorization" ? "Authorization" : name.toUpperCase(), second], // HTTP/2 sends names in lowercase
];

describe("what connect's Headers shows of a header sent twice (Node's default handling, no hook)", () => {
  for (const setup of allSetups) {
    test(setup.name, async () => {
      const seen: { authorization: string | null; apiKey: string | null }[] = [];
      const { server, target } = await start(setup, {
        routes: greeterRoutes,
        requestGate: async ({ requestHeader }) => {
          seen.push({ authorization: requestHeader.get("authorization"), apiKey: requestHeader.get("x-api-key") });
        },
      });
      try {
        for (const protocol of setup.protocols) {
          seen.length = 0;
          const fields = [...twice("authorization", "Bearer first", "Bearer second"), ...twice("x-api-key", "k1", "k2")];
          assert.equal((await rawUnary(target, protocol, pingPath, fields)).code, "OK");
          assert.deepEqual(
            seen,
            [
              {
                authorization: setup === joining ? "Bearer first, Bearer second" : "Bearer first",
                apiKey: "k1, k2",
              },
            ],
            protocol,
          );
          console.log(
            `# ${setup.name}, ${protocol}: authorization ${JSON.stringify(seen[0]!.authorization)}, x-api-key ${JSON.stringify(seen[0]!.apiKey)}`,
          );
        }
      } finally {
        await server.close();
      }
    });
  }
});

describe("two credential headers of one name", () => {
  let issuer: DevIssuer;
  let token: string;
  const apiKey = "k_live_duplicate_headers_1";
  const otherApiKey = "k_live_duplicate_headers_2";
  let serveOptions: (withHook: boolean) => Omit<ServeOptions, "tls">;
  before(async () => {
    issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
    token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
    const keys = await Promise.all(
      [apiKey, otherApiKey].map(async (k, i) => ({ sha256: await hashApiKey(k), subject: `job-${i}`, scopes: ["greet"] })),
    );
    const auth = createServerAuth({
      authenticators: [
        createJwtAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"], keys: issuer.jwks }),
        createApiKeyAuthenticator({ keys }),
      ],
      realm: "greeter",
    });
    serveOptions = (withHook) => ({
      routes: greeterRoutes,
      requestGate: auth.requestGate,
      interceptors: [auth.interceptor],
      contextValues: withHook ? nodeContextValues : undefined,
    });
  });

  const multiple = {
    code: Code.Unauthenticated,
    reason: "MULTIPLE_CREDENTIALS",
    challenge: 'Bearer realm="greeter", error="invalid_request"',
  };
  const ok = { code: "OK", reason: undefined, challenge: null };

  for (const setup of allSetups) {
    describe(`${setup.name}, with nodeContextValues`, () => {
      let server: RunningServer;
      let target: RawTarget;
      before(async () => {
        ({ server, target } = await start(setup, serveOptions(true)));
      });
      after(() => server.close());

      for (const protocol of setup.protocols) {
        test(`${protocol}: two Authorization headers are MULTIPLE_CREDENTIALS, one is allowed`, async () => {
          const bearer = `Bearer ${token}`;
          assert.deepEqual(
            await rawUnary(target, protocol, greetPath, twice("authorization", bearer, bearer)),
            multiple,
            "the same token twice",
          );
          assert.deepEqual(
            await rawUnary(target, protocol, greetPath, twice("authorization", bearer, "Bearer not-a-jwt")),
            multiple,
            "a valid token, then another",
          );
          assert.deepEqual(
            await rawUnary(target, protocol, greetPath, twice("authorization", bearer, "")),
            multiple,
            "then an empty one",
          );
          assert.deepEqual(
            await rawUnary(target, protocol, pingPath, twice("authorization", bearer, bearer)),
            multiple,
            "public method",
          );
          assert.deepEqual(await rawUnary(target, protocol, greetPath, [["authorization", bearer]]), ok, "one");
        });

        test(`${protocol}: two x-api-key headers are MULTIPLE_CREDENTIALS, one is allowed`, async () => {
          assert.deepEqual(await rawUnary(target, protocol, greetPath, twice("x-api-key", apiKey, otherApiKey)), multiple);
          assert.deepEqual(await rawUnary(target, protocol, greetPath, [["x-api-key", apiKey]]), ok);
        });
      }
    });

    describe(`${setup.name}, without the hook (the limits in packages/node/README.md)`, () => {
      let server: RunningServer;
      let target: RawTarget;
      before(async () => {
        ({ server, target } = await start(setup, serveOptions(false)));
      });
      after(() => server.close());

      test(`${setup.protocols[0]}: two x-api-key headers are still MULTIPLE_CREDENTIALS (joined with ", ")`, async () => {
        assert.deepEqual(
          await rawUnary(target, setup.protocols[0]!, greetPath, twice("x-api-key", apiKey, otherApiKey)),
          multiple,
        );
      });

      test(`${setup.protocols[0]}: of two Authorization headers, ${setup === joining ? "the joined value is refused" : "the first decides"}`, async () => {
        const bearer = `Bearer ${token}`;
        const outcome = await rawUnary(
          target,
          setup.protocols[0]!,
          greetPath,
          twice("authorization", bearer, "Bearer not-a-jwt"),
        );
        assert.deepEqual(outcome, setup === joining ? multiple : ok);
      });
    });
  }
});
