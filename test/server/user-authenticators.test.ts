// What users do with authenticators, over the wire (connectNodeAdapter on node:http2 cleartext, 127.0.0.1;
// the connect-node Connect, gRPC and gRPC-web transports), in each install mode:
// - patch or wrap the JWT authenticator with a check of their own: it runs on every call, also for a
//   token identical to one already accepted (the verified-token cache must not skip it);
// - hooks that throw (authenticate, extract, authenticateConnection): Internal, `authenticator "NAME"
//   failed`, and nothing of the credential or of the exception in what the caller receives;
// - an Authorization scheme nobody takes (Basic, Token): MISSING_CREDENTIALS, detail unsupported_scheme,
//   and a challenge without an error code (RFC 6750 §3.1), for public methods too.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { Reason } from "@connectauth/core";
import { type Authenticator, type DecisionEvent, createJwtAuthenticator, createServerAuth, rejected } from "@connectauth/server";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { transportFor } from "./adapters/clients.js";
import { type RawHeaderFields, emptyUnaryRequest, http2Post, rawUnary } from "./adapters/raw-wire.js";
import { type Protocol, type RunningServer, setups } from "./adapters/setups.js";
import { failure } from "../support/failure.js";
import { installModes, installed, type InstallMode } from "../support/install-modes.js";
import { createTestSigner } from "../support/tokens.js";
import { type RawHeaders, assertRefused, visibleText, withHeaders } from "../support/wire.js";

const setup = setups.find((s) => s.name === "connectNodeAdapter on http2 cleartext")!;
const protocols: readonly Protocol[] = ["connect", "grpc", "grpc-web"];
const issuer = "https://issuer.test/";
const audience = "greeter";
const signer = await createTestSigner("k1");
const tokenOf = (subject: string) => signer.sign({ iss: issuer, aud: audience, sub: subject, scope: "greet" });
const jwtAuthenticator = () => createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys: signer.jwks });

/** The Greeter behind createServerAuth, installed as `mode`; its decision events go to `events`. */
async function serve(mode: InstallMode, authenticators: Authenticator[], events: DecisionEvent[] = []): Promise<RunningServer> {
  const auth = createServerAuth({ authenticators, realm: "greeter", onDecision: (e) => events.push(e) });
  const server = await setup.start({ routes: greeterRoutes, ...installed(auth, mode) });
  running.push(server);
  return server;
}
const running: RunningServer[] = [];
after(() => Promise.all(running.map((s) => s.close())));

const greeter = (server: RunningServer, protocol: Protocol, options: { token?: string; headers?: RawHeaders } = {}) =>
  createClient(
    GreeterService,
    transportFor(server.url, protocol, setup.httpVersion, {
      token: options.token,
      interceptors: options.headers === undefined ? [] : [withHeaders(options.headers)],
    }),
  );

const refused = async (call: Promise<unknown>): Promise<ConnectError> =>
  (await failure(call, "expected the call to be refused")).error;

/** The user's own check, patched into (or wrapped around) the authenticator as the README shows. */
function withSuspensions(
  authenticate: Authenticator["authenticate"],
  suspended: ReadonlySet<string>,
): Authenticator["authenticate"] {
  return async (credentials, call) => {
    const outcome = await authenticate(credentials, call);
    return outcome.ok && suspended.has(outcome.identity.subject)
      ? rejected(Reason.InvalidToken, { detail: "suspended" })
      : outcome;
  };
}

for (const mode of installModes) {
  describe(`installed as ${mode}`, () => {
    test("an authenticator patched after the first call refuses the suspended subject on every call", async () => {
      const jwt = jwtAuthenticator();
      const suspended = new Set<string>();
      const server = await serve(mode, [jwt]);
      const [mallory, alice] = await Promise.all([tokenOf("mallory"), tokenOf("alice")]);
      for (const protocol of protocols) {
        assert.equal((await greeter(server, protocol, { token: mallory }).whoAmI({})).subject, "mallory");
      }
      // Patched in place, once the server has accepted (and cached) mallory's token.
      jwt.authenticate = withSuspensions(jwt.authenticate, suspended);
      suspended.add("mallory");
      for (const protocol of protocols) {
        for (let i = 0; i < 2; i++) {
          const error = await refused(greeter(server, protocol, { token: mallory }).whoAmI({}));
          assertRefused(
            error,
            { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "suspended" },
            [mallory],
            `${protocol} #${i}`,
          );
        }
        assert.equal((await greeter(server, protocol, { token: alice }).whoAmI({})).subject, "alice");
      }
      suspended.delete("mallory");
      assert.equal(
        (await greeter(server, "grpc", { token: mallory }).whoAmI({})).subject,
        "mallory",
        "the check is run, not remembered",
      );
    });

    test("an authenticator patched or wrapped before the first call refuses identical tokens every time", async () => {
      const suspended = new Set(["mallory"]);
      const patched = jwtAuthenticator();
      patched.authenticate = withSuspensions(patched.authenticate, suspended);
      const jwt = jwtAuthenticator();
      const wrapped: Authenticator = { ...jwt, authenticate: withSuspensions(jwt.authenticate, suspended) };
      for (const authenticator of [patched, wrapped]) {
        const server = await serve(mode, [authenticator]);
        const [mallory, alice] = await Promise.all([tokenOf("mallory"), tokenOf("alice")]);
        for (const protocol of protocols) {
          for (let i = 0; i < 2; i++) {
            const error = await refused(greeter(server, protocol, { token: mallory }).greet({}));
            assertRefused(
              error,
              { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "suspended" },
              [mallory],
              `${protocol} #${i}`,
            );
            assert.match((await greeter(server, protocol, { token: alice }).greet({})).greeting, /from alice/);
          }
        }
      }
    });

    describe("an exception from a user hook is Internal, and nothing of it or of the credential reaches the caller", () => {
      const secret = "s3cr3t-credential-0123456789";
      const thrown = "kaboom-exception-text";
      const cases: { hook: string; authenticator: Authenticator; headers: Record<string, string> }[] = [
        {
          hook: "authenticate (a rejected promise)",
          authenticator: {
            name: "introspection",
            schemes: ["bearer"],
            authenticate: async ({ value }) => Promise.reject(new Error(`${thrown}: ${value}`)),
          },
          headers: { authorization: `Bearer ${secret}` },
        },
        {
          hook: "authenticate (thrown synchronously: the credential itself)",
          authenticator: {
            name: "introspection",
            schemes: ["bearer"],
            authenticate: ({ value }) => {
              throw `${thrown}: ${value}`;
            },
          },
          headers: { authorization: `Bearer ${secret}` },
        },
        {
          hook: "extract",
          authenticator: {
            name: "session",
            schemes: [],
            extract: (headers) => {
              throw new Error(`${thrown}: ${headers.get("cookie")}`);
            },
            authenticate: async () => rejected(Reason.InvalidToken),
          },
          headers: { cookie: `session=${secret}` },
        },
        {
          hook: "authenticateConnection",
          authenticator: {
            name: "mtls",
            schemes: [],
            authenticate: async () => rejected(Reason.InvalidToken),
            authenticateConnection: async () => Promise.reject(new Error(`${thrown}: ${secret}`)),
          },
          headers: {},
        },
      ];
      for (const { hook, authenticator, headers } of cases) {
        test(hook, async () => {
          const events: DecisionEvent[] = [];
          const server = await serve(mode, [authenticator], events);
          for (const protocol of protocols) {
            events.length = 0;
            const error = await refused(greeter(server, protocol, { headers }).greet({}));
            assert.equal(error.code, Code.Internal, protocol);
            assert.equal(error.rawMessage, `authenticator "${authenticator.name}" failed`, protocol);
            for (const word of [secret, thrown])
              assert.ok(!visibleText(error).includes(word), `${protocol}: "${word}" in the error`);
            assert.deepEqual(
              events.map((e) => [e.allowed, e.code, e.reason]),
              [[false, Code.Internal, undefined]],
              protocol,
            );
            // As received on the wire, before any client reads it: status, headers, body, trailers.
            const wire = await rawText(server, protocol, "/example.v1.GreeterService/Greet", Object.entries(headers));
            assert.match(wire, protocol === "connect" ? /"code":"internal"/ : /grpc-status\W+13/, `${protocol}: ${wire}`);
            for (const word of [secret, thrown]) assert.ok(!wire.includes(word), `${protocol}: "${word}" on the wire`);
          }
        });
      }
    });

    test("an unsupported Authorization scheme is MISSING_CREDENTIALS (unsupported_scheme), on public methods too", async () => {
      const events: DecisionEvent[] = [];
      const server = await serve(mode, [jwtAuthenticator()], events);
      const credentials = { Basic: "dXNlcjpwYXNzd29yZA==", Token: "t0ken-value-0123456789" };
      for (const [scheme, value] of Object.entries(credentials)) {
        for (const method of ["greet", "ping"] as const) {
          for (const protocol of protocols) {
            const what = `${scheme} to ${method} over ${protocol}`;
            events.length = 0;
            const error = await refused(
              greeter(server, protocol, { headers: { authorization: `${scheme} ${value}` } })[method]({}),
            );
            assertRefused(
              error,
              { code: Code.Unauthenticated, reason: "MISSING_CREDENTIALS", detail: "unsupported_scheme" },
              [value],
              what,
            );
            assert.equal(error.metadata.get("www-authenticate"), 'Bearer realm="greeter"', what);
            assert.deepEqual(
              events.map((e) => [e.allowed, e.code, e.reason]),
              [[false, Code.Unauthenticated, "MISSING_CREDENTIALS"]],
              what,
            );
            // The challenge as sent: a response header (Connect unary), trailers (gRPC) or the trailer frame (gRPC-web).
            const path = `/example.v1.GreeterService/${method === "greet" ? "Greet" : "Ping"}`;
            const wire = await rawUnary({ url: server.url, httpVersion: "2" }, protocol, path, [
              ["authorization", `${scheme} ${value}`],
            ]);
            assert.deepEqual(
              wire,
              { code: Code.Unauthenticated, reason: "MISSING_CREDENTIALS", challenge: 'Bearer realm="greeter"' },
              what,
            );
          }
        }
      }
      // The control: without any credential, the public method is open and the other one is not.
      assert.match((await greeter(server, "connect").ping({})).message, /anonymous/);
      assert.equal((await refused(greeter(server, "connect").greet({}))).code, Code.Unauthenticated);
    });
  });
}

/** Everything the server sent back for an empty unary request (headers, body, trailers), as text, percent-decoded too. */
async function rawText(server: RunningServer, protocol: Protocol, path: string, fields: RawHeaderFields): Promise<string> {
  const [protocolFields, body] = emptyUnaryRequest(protocol);
  const res = await http2Post(server.url, path, [...protocolFields, ...fields], body);
  const text = [
    `status ${res.status}`,
    ...[...res.headers].map(([k, v]) => `${k}: ${v}`),
    Buffer.from(res.body).toString("latin1"),
    ...[...res.trailers].map(([k, v]) => `${k}: ${v}`),
  ].join("\n");
  return `${text}\n${percentDecoded(text)}`;
}

/** grpc-message is percent-encoded: decoded, what it says can be searched for. */
function percentDecoded(text: string): string {
  return text.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
