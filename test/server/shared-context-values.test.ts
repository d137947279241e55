// Per-call state belongs to the call, over the wire (connectNodeAdapter on node:http2, 127.0.0.1; the
// connect-node Connect, gRPC and gRPC-web transports), in each install mode. A `contextValues` hook that
// hands every request the same ContextValues object (a plain `() => shared`, or `nodeContextValues(req,
// base)` with `base` made once) must never give a later caller the first caller's identity, nor let it
// skip authentication: from the second call on, every call with that object is refused (Internal).
// Context values that already hold an identity when the call arrives are refused the same way.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, type ContextValues, createClient, createContextValues } from "@connectrpc/connect";
import {
  type AuthIdentity,
  type DecisionEvent,
  authIdentityKey,
  createJwtAuthenticator,
  createServerAuth,
} from "@connectauth/server";
import { createCertificateAuthenticator, identifyBySpiffeId, nodeContextValues } from "@connectauth/node";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type ClientOptions, transportFor } from "./adapters/clients.js";
import { type Protocol, type RunningServer, type ServeOptions, setups } from "./adapters/setups.js";
import { type TestPki, createTestPki, spiffeIds } from "../support/certs.js";
import { type InstallMode, installModes, installed } from "../support/install-modes.js";
import { createTestSigner } from "../support/tokens.js";
import { assertNotEchoed } from "../support/wire.js";

const cleartext = setups.find((s) => s.name === "connectNodeAdapter on http2 cleartext")!;
const overTls = setups.find((s) => s.name === "connectNodeAdapter on http2 over TLS")!;
const protocols: readonly Protocol[] = ["connect", "grpc", "grpc-web"];
const issuer = "https://issuer.test/";
const audience = "greeter";
const signer = await createTestSigner("k1");
const tokenOf = (subject: string, scope = "greet") => signer.sign({ iss: issuer, aud: audience, sub: subject, scope });
let alice: string;
let bob: string;
let pki: TestPki;
before(async () => {
  [alice, bob, pki] = await Promise.all([tokenOf("alice"), tokenOf("bob"), createTestPki()]);
});

const mallory: AuthIdentity = { subject: "mallory", scopes: new Set(["greet", "admin"]), claims: {}, authenticator: "jwt" };

const running: RunningServer[] = [];
after(() => Promise.all(running.map((s) => s.close())));

/** A server of the Greeter, installed as `mode`, with the JWT (or mTLS) authenticator and this hook. */
async function serve(
  mode: InstallMode,
  contextValues: NonNullable<ServeOptions["contextValues"]>,
  events: DecisionEvent[],
  mtls = false,
): Promise<RunningServer> {
  const auth = createServerAuth({
    authenticators: mtls
      ? [
          createCertificateAuthenticator({
            identify: identifyBySpiffeId({ [spiffeIds.billing]: ["greet"], [spiffeIds.reports]: ["greet"] }),
          }),
        ]
      : [createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys: signer.jwks })],
    realm: "greeter",
    onDecision: (e) => events.push(e),
  });
  const server = await (mtls ? overTls : cleartext).start({
    routes: greeterRoutes,
    ...installed(auth, mode),
    contextValues,
    tls: mtls ? { ...pki.server.tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false } : undefined,
  });
  running.push(server);
  return server;
}

const greeter = (server: RunningServer, protocol: Protocol, options: ClientOptions = {}) =>
  createClient(GreeterService, transportFor(server.url, protocol, "2", options));

type Outcome = { code: "OK"; subject: string } | { code: Code; message: string };

/** Calls WhoAmI (or Greet, Ping), and checks that the call made exactly one decision event, matching it. */
async function call(events: DecisionEvent[], run: () => Promise<{ subject?: string }>): Promise<Outcome> {
  events.length = 0;
  let outcome: Outcome;
  try {
    outcome = { code: "OK", subject: (await run()).subject ?? "" };
  } catch (e) {
    const error = ConnectError.from(e);
    assertNotEchoed(error, [alice, bob]);
    outcome = { code: error.code, message: error.rawMessage };
  }
  assert.equal(events.length, 1, `one decision event per call, got ${JSON.stringify(events)}`);
  const ok = outcome.code === "OK";
  assert.deepEqual([events[0]!.allowed, events[0]!.code], [ok, ok ? undefined : outcome.code]);
  return outcome;
}

/** Refused as context values that are not the call's own. */
function assertForeignValues(o: Outcome, what: string) {
  assert.equal(o.code, Code.Internal, `${what}: ${JSON.stringify(o)}`);
}

for (const mode of installModes) {
  describe(`installed as ${mode}`, () => {
    for (const protocol of protocols) {
      test(`${protocol}: one ContextValues object for every request (contextValues: () => shared)`, async () => {
        const events: DecisionEvent[] = [];
        const shared = createContextValues();
        const server = await serve(mode, () => shared, events);
        const first = await call(events, () => greeter(server, protocol, { token: alice }).whoAmI({}));
        assert.deepEqual(first, { code: "OK", subject: "alice" });
        const second = await call(events, () => greeter(server, protocol, { token: bob }).whoAmI({}));
        assertForeignValues(second, "bob, second");
        assert.match((second as { message: string }).message, /context values/i);
        assert.match((second as { message: string }).message, /per request|each request|per call|each call/i);
        // Every later call with that object: with no token, to a public method, even alice again.
        assertForeignValues(await call(events, () => greeter(server, protocol).whoAmI({})), "no token");
        assertForeignValues(
          await call(events, () =>
            greeter(server, protocol)
              .ping({})
              .then(() => ({})),
          ),
          "public, no token",
        );
        assertForeignValues(await call(events, () => greeter(server, protocol, { token: alice }).whoAmI({})), "alice again");
      });

      test(`${protocol}: nodeContextValues(req, base) with one base for every request`, async () => {
        const events: DecisionEvent[] = [];
        const base = createContextValues();
        const server = await serve(mode, (req) => nodeContextValues(req, base), events, true);
        const tls = (cert?: { tls: { cert: string; key: string } }): ClientOptions => ({ ca: pki.ca.certPem, ...cert?.tls });
        const first = await call(events, () => greeter(server, protocol, tls(pki.clients.billing)).whoAmI({}));
        assert.deepEqual(first, { code: "OK", subject: spiffeIds.billing });
        assertForeignValues(
          await call(events, () => greeter(server, protocol, tls(pki.clients.reports)).whoAmI({})),
          "another certificate",
        );
        assertForeignValues(await call(events, () => greeter(server, protocol, tls()).whoAmI({})), "no certificate");
      });

      test(`${protocol}: context values that arrive with an identity in them`, async () => {
        const events: DecisionEvent[] = [];
        const server = await serve(mode, () => createContextValues().set(authIdentityKey, mallory), events);
        assertForeignValues(await call(events, () => greeter(server, protocol, { token: alice }).whoAmI({})), "a valid token");
        assertForeignValues(await call(events, () => greeter(server, protocol).whoAmI({})), "no token");
        assertForeignValues(
          await call(events, () =>
            greeter(server, protocol)
              .admin({})
              .then(() => ({})),
          ),
          "admin, no token",
        );
        assertForeignValues(
          await call(events, () =>
            greeter(server, protocol)
              .ping({})
              .then(() => ({})),
          ),
          "public, no token",
        );
      });
    }

    test("the control: context values made per request give each caller their own identity", async () => {
      const events: DecisionEvent[] = [];
      const server = await serve(mode, (): ContextValues => createContextValues(), events);
      const tlsServer = await serve(mode, (req) => nodeContextValues(req, createContextValues()), events, true);
      for (const protocol of protocols) {
        assert.deepEqual(await call(events, () => greeter(server, protocol, { token: alice }).whoAmI({})), {
          code: "OK",
          subject: "alice",
        });
        assert.deepEqual(await call(events, () => greeter(server, protocol, { token: bob }).whoAmI({})), {
          code: "OK",
          subject: "bob",
        });
        const anonymous = await call(events, () => greeter(server, protocol).whoAmI({}));
        assert.equal(anonymous.code, Code.Unauthenticated);
        for (const [cert, subject] of [
          [pki.clients.billing, spiffeIds.billing],
          [pki.clients.reports, spiffeIds.reports],
        ] as const) {
          const me = await call(events, () => greeter(tlsServer, protocol, { ca: pki.ca.certPem, ...cert.tls }).whoAmI({}));
          assert.deepEqual(me, { code: "OK", subject });
        }
      }
    });
  });
}
