// Each way a user installs createServerAuth, built as the user builds it: connectNodeAdapter on node:http2
// (cleartext, 127.0.0.1, a free port) with `{ routes, requestGate: auth.requestGate }` (the gate alone),
// `{ routes, interceptors: [auth.interceptor] }` (the interceptor alone, connect < 2.2) or
// `auth.install({ routes })` (both, the recommended install), called by the connect-node Connect,
// gRPC and gRPC-web transports. The fixture services of test/fixtures/rules have rules over the request
// message (`request.tenant_id == claims.tenant`): only an install with the interceptor can judge them, and
// the gate alone must refuse such a method (Internal) rather than let it through unchecked.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/core";
import { type DecisionEvent, createServerAuth } from "@connectauth/server";
import { transportFor } from "./adapters/clients.js";
import { type Protocol, type RunningServer, setups } from "./adapters/setups.js";
import { largeBody, rejectedReadBound } from "./adapters/suite.js";
import {
  InvoiceService,
  LegacyService,
  clientOf,
  mint,
  received,
  rulesAuthenticator,
  rulesRoutes,
} from "../fixtures/rules-server.js";
import { type InstallMode, installModes, installed } from "../support/install-modes.js";

const setup = setups.find((s) => s.name === "connectNodeAdapter on http2 cleartext")!;
const protocols: readonly Protocol[] = ["connect", "grpc", "grpc-web"];

const [reader, readerT2, noScope, writer, betaOn, betaOff] = await Promise.all([
  mint({ scope: ["invoices.read"], tenant: "t1" }),
  mint({ scope: ["invoices.read"], tenant: "t2" }),
  mint({ tenant: "t1" }),
  mint({ scope: ["invoices.write"], tenant: "t1" }),
  mint({ scope: ["invoices.read"], beta: true }),
  mint({ scope: ["invoices.read"], beta: false }),
]);
const tokens = [reader, readerT2, noScope, writer, betaOn, betaOff] as string[];

/** What a call came to: "OK" and its reply text, or its code, reason, detail, challenge and message. */
interface Outcome {
  readonly code: Code | "OK";
  readonly text?: string;
  readonly reason?: string;
  readonly detail?: string;
  readonly challenge?: string | null;
  readonly message?: string;
}

async function outcome(call: Promise<{ text: string }>): Promise<Outcome> {
  try {
    return { code: "OK", text: (await call).text };
  } catch (e) {
    const error = ConnectError.from(e);
    const failure = readAuthFailure(error);
    for (const token of tokens) assert.ok(!error.message.includes(token), "a token must not be echoed");
    return {
      code: error.code,
      reason: failure?.reason,
      detail: failure?.metadata["detail"],
      challenge: error.metadata.get("www-authenticate"),
      message: error.rawMessage,
    };
  }
}

/** The gate alone, for a method whose rule reads the request: refused, naming the install that fixes it. */
function assertNeedsInterceptor(o: Outcome, what: string) {
  assert.equal(o.code, Code.Internal, `${what}: ${JSON.stringify(o)}`);
  assert.match(o.message ?? "", /auth\.(interceptor|install)/, `${what}: the message names the fix`);
}

async function* upload(...tenants: string[]) {
  for (const tenantId of tenants) yield { tenantId };
}

for (const mode of installModes) {
  const judgesRequest = mode !== "gate"; // the interceptor runs, after the body is parsed
  describe(`installed as ${describeMode(mode)}`, () => {
    let server: RunningServer;
    const events: DecisionEvent[] = [];
    before(async () => {
      const auth = createServerAuth({
        authenticators: [rulesAuthenticator()],
        realm: "invoices",
        authorization: { services: [InvoiceService, LegacyService] },
        onDecision: (e) => events.push(e),
      });
      if (mode === "install") {
        // install() adds the gate and, in front of the user's interceptors, its own; it keeps the rest.
        const mine: Interceptor = (next) => next;
        const options = auth.install({ routes: rulesRoutes, interceptors: [mine], readMaxBytes: 1 });
        assert.deepEqual(Object.keys(options).sort(), ["interceptors", "readMaxBytes", "requestGate", "routes"]);
        assert.deepEqual(options.interceptors, [auth.interceptor, mine]);
        assert.throws(() => auth.install({ requestGate: auth.requestGate } as never), TypeError);
      }
      server = await setup.start({ routes: rulesRoutes, ...installed(auth, mode) });
    });
    after(() => server.close());

    const invoices = (protocol: Protocol, token?: string) =>
      clientOf(InvoiceService, transportFor(server.url, protocol, setup.httpVersion, { token }));

    /** The outcome of a call, and its decision event: exactly one per call. */
    async function decided(call: () => Promise<{ text: string }>): Promise<{ outcome: Outcome; event: DecisionEvent }> {
      events.length = 0;
      const o = await outcome(call());
      assert.equal(events.length, 1, `one decision event per call, got ${JSON.stringify(events)}`);
      const event = events[0]!;
      if (o.code === "OK") {
        assert.deepEqual([event.allowed, event.code, event.reason], [true, undefined, undefined]);
      } else {
        assert.deepEqual(
          [event.allowed, event.code, event.reason],
          [false, o.code, o.reason],
          "the event says what the caller was told",
        );
      }
      return { outcome: o, event };
    }

    for (const protocol of protocols) {
      test(`${protocol}: no token is MISSING_CREDENTIALS, no scope INSUFFICIENT_SCOPE (before any condition)`, async () => {
        const missing = await decided(() => invoices(protocol).getInvoice({ tenantId: "t1" }));
        assert.deepEqual(
          [missing.outcome.code, missing.outcome.reason, missing.outcome.challenge],
          [Code.Unauthenticated, "MISSING_CREDENTIALS", 'Bearer realm="invoices"'],
        );
        const scope = await decided(() => invoices(protocol, noScope).getInvoice({ tenantId: "t1" }));
        assert.deepEqual([scope.outcome.code, scope.outcome.reason], [Code.PermissionDenied, "INSUFFICIENT_SCOPE"]);
        assert.equal(scope.event.subject, "alice");
      });

      test(`${protocol}: a condition over the request message, met and not met`, async () => {
        const met = await decided(() => invoices(protocol, reader).getInvoice({ tenantId: "t1" }));
        const notMet = await decided(() => invoices(protocol, readerT2).getInvoice({ tenantId: "t1" }));
        if (judgesRequest) {
          assert.deepEqual(met.outcome, { code: "OK", text: "GetInvoice t1 for alice" });
          assert.deepEqual(
            [notMet.outcome.code, notMet.outcome.reason, notMet.outcome.detail],
            [Code.PermissionDenied, "CLAIMS_REJECTED", "condition"],
          );
        } else {
          assertNeedsInterceptor(met.outcome, "condition met");
          assertNeedsInterceptor(notMet.outcome, "condition not met");
        }
        assert.equal(notMet.event.subject, "alice", "refused after authentication");
      });

      test(`${protocol}: rules that need no request message are enforced in full`, async () => {
        assert.deepEqual((await decided(() => invoices(protocol, reader).listInvoices({ tenantId: "t9" }))).outcome, {
          code: "OK",
          text: "ListInvoices t9 for alice",
        });
        // A condition over the identity only: judged by the gate too, before the body.
        assert.equal((await decided(() => invoices(protocol, betaOn).betaInvoices({}))).outcome.code, "OK");
        const off = (await decided(() => invoices(protocol, betaOff).betaInvoices({}))).outcome;
        assert.deepEqual([off.code, off.reason, off.detail], [Code.PermissionDenied, "CLAIMS_REJECTED", "condition"]);
      });

      test(`${protocol}: a client stream is judged message by message; one foreign message refuses it`, async () => {
        const client = invoices(protocol, writer) as unknown as {
          uploadInvoices(input: AsyncIterable<{ tenantId: string }>): Promise<{ text: string }>;
        };
        received.length = 0;
        const own = await decided(() => client.uploadInvoices(upload("t1", "t1", "t1")));
        if (judgesRequest) {
          assert.deepEqual(own.outcome, { code: "OK", text: "UploadInvoices 3" });
          assert.deepEqual(received, ["t1", "t1", "t1"]);
        } else {
          assertNeedsInterceptor(own.outcome, "own messages");
        }
        received.length = 0;
        const foreign = await decided(() => client.uploadInvoices(upload("t1", "t2", "t1")));
        if (judgesRequest) {
          assert.deepEqual(
            [foreign.outcome.code, foreign.outcome.reason, foreign.outcome.detail],
            [Code.PermissionDenied, "CLAIMS_REJECTED", "condition"],
          );
          assert.deepEqual(received, ["t1"], "the handler never sees the foreign message");
        } else {
          assertNeedsInterceptor(foreign.outcome, "a foreign message");
          assert.deepEqual(received, [], "the handler never runs");
        }
      });
    }

    if (mode !== "interceptor") {
      for (const protocol of protocols) {
        test(`${protocol}: a refused ${largeBody / 1048576} MB request is refused without reading its body`, async () => {
          const big = "x".repeat(largeBody);
          const refusals: [string, () => Promise<{ text: string }>, Code][] = [
            ["no token", () => invoices(protocol).getInvoice({ tenantId: big }), Code.Unauthenticated],
            ["no scope", () => invoices(protocol, noScope).getInvoice({ tenantId: big }), Code.PermissionDenied],
          ];
          if (mode === "gate") {
            refusals.push([
              "a condition over the request",
              () => invoices(protocol, reader).getInvoice({ tenantId: big }),
              Code.Internal,
            ]);
          }
          for (const [what, call, code] of refusals) {
            assert.equal((await outcome(call())).code, code, what);
            const read = await server.lastRequestBytesRead();
            assert.ok(read !== undefined && read < rejectedReadBound, `${what}: read ${read} bytes of a refused request`);
          }
          // The control: a served request of the same size is read in full, so the measure sees body bytes.
          assert.equal((await outcome(invoices(protocol, reader).listInvoices({ note: big }))).code, "OK");
          const served = (await server.lastRequestBytesRead())!;
          assert.ok(served >= largeBody - rejectedReadBound, `read ${served} bytes of a served request`);
        });
      }
    }
  });
}

function describeMode(mode: InstallMode): string {
  switch (mode) {
    case "gate":
      return "{ requestGate: auth.requestGate }";
    case "interceptor":
      return "{ interceptors: [auth.interceptor] }";
    case "install":
      return "auth.install({ routes })";
  }
}
