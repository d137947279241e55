// npm run test:load — faults while calls flow at 64 in flight, all on loopback, bounded in count and time:
// the JWKS endpoint down, slow (hanging past the timeout), serving garbage, rotating keys; a server with
// no key at all; the client's token endpoint down and back. Asserts every decision, the fetches sent to
// the failing endpoints, and the longest call of each phase against the configured timeouts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createAuthInterceptor, createCachedTokenSource, readAuthFailure } from "@connectauth/client";
import { type JwtAuthenticatorOptions, createJwtAuthenticator } from "@connectauth/server";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { exampleTransport } from "../../packages/example/src/demo-cases.js";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { type KeyServer, type KeyServerMode, startKeyServer } from "../support/key-server.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { protocols } from "../support/wire.js";

const inFlight = 64;
/** The remote key set's settings: a fetch may take 400 ms, keys are refetched after 300 ms. */
const remote = {
  timeoutDuration: 400,
  cooldownDuration: 100,
  cacheMaxAge: 300,
  failureBackoff: 200,
  allowInsecureLoopback: true,
};
/**
 * What a call may take beyond the key fetch timeout: 64 calls in flight on a shared 2-core machine.
 * Far below the slow key server's delay, so a call that waited for it fails the bound.
 */
const slack = 2500;
const hang = 8000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/**
 * The example server with one JWT authenticator taking the keys of `keys` (its JWKS URL, with `remote`'s
 * settings), closed after the suite.
 */
async function serverOn(keys: KeyServer, options: Partial<JwtAuthenticatorOptions> = {}): Promise<ExampleServer> {
  const jwt = createJwtAuthenticator({
    issuer: keys.url,
    audience: "greeter",
    algorithms: ["ES256"],
    keys: keys.jwksUrl,
    remote,
    ...options,
  });
  const server = await startExampleServer({ auth: { kind: "authenticators", authenticators: () => [jwt] } });
  closers.push(() => server.close());
  return server;
}

type Greeter = ReturnType<typeof createClient<typeof GreeterService>>;

/** One Greeter client per protocol, sending `token` through the client interceptor. */
function clientsFor(url: string, token: string): Greeter[] {
  return protocols.map((p) => createClient(GreeterService, exampleTransport(url, p, token)));
}

/** "OK", or the code and reason a call failed with. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "OK";
  } catch (e) {
    const error = ConnectError.from(e);
    return `${Code[error.code]} ${readAuthFailure(error)?.reason}`;
  }
}

interface Run {
  /** Outcomes by kind of call, e.g. { valid: { OK: 900 }, "unknown kid": { "Unavailable KEYS_UNAVAILABLE": 100 } }. */
  readonly outcomes: Record<string, Record<string, number>>;
  readonly calls: number;
  readonly maxMs: number;
  readonly seconds: number;
}

/**
 * Makes calls with 64 in flight, until `calls` calls are made or `until()` says stop; call i is
 * `kinds[i % kinds.length]` over protocol `(i / kinds.length) % 3`.
 */
async function drive(
  kinds: readonly { name: string; clients: Greeter[] }[],
  calls: number,
  until: () => boolean = () => false,
): Promise<Run> {
  const outcomes: Record<string, Record<string, number>> = {};
  let next = 0;
  let maxMs = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < calls && !until()) {
        const i = next++;
        const kind = kinds[i % kinds.length]!;
        const client = kind.clients[Math.floor(i / kinds.length) % protocols.length]!;
        const t0 = performance.now();
        const o = await outcome(() => client.greet({ name: "fault" }));
        maxMs = Math.max(maxMs, performance.now() - t0);
        outcomes[kind.name] ??= {};
        const byKind = outcomes[kind.name];
        byKind[o] = (byKind[o] ?? 0) + 1;
      }
    }),
  );
  return { outcomes, calls: next, maxMs, seconds: (performance.now() - started) / 1000 };
}

function report(phase: string, run: Run, fetches?: number): void {
  console.log(
    `# ${phase}: ${run.calls} calls in ${run.seconds.toFixed(2)} s, longest ${run.maxMs.toFixed(0)} ms` +
      `${fetches === undefined ? "" : `, ${fetches} fetches`}; ${JSON.stringify(run.outcomes)}`,
  );
}

describe("JWKS endpoint faults under load (keys fetched before)", () => {
  let keys: KeyServer;
  let signer: TestSigner;
  let server: ExampleServer;
  let valid: Greeter[];
  let unknownKid: Greeter[];
  const claims = () => ({ iss: keys.url, aud: "greeter", sub: "alice", scope: "greet" });

  before(async () => {
    signer = await createTestSigner("k1");
    keys = await startKeyServer(signer.jwks);
    keys.slowMs = hang;
    closers.push(() => keys.close());
    // No token cache: every call looks its key up, so the key set itself is what is under test.
    server = await serverOn(keys, { cache: false });
    valid = clientsFor(server.url, await signer.sign(claims()));
    const stranger = await createTestSigner("k9");
    unknownKid = clientsFor(server.url, await stranger.sign(claims()));
  });

  test("healthy: every valid call accepted, a fetch per cacheMaxAge at most", async () => {
    const run = await drive([{ name: "valid", clients: valid }], 1500);
    report("healthy", run, keys.requests.jwks);
    assert.deepEqual(run.outcomes, { valid: { OK: 1500 } });
    assert.ok(keys.requests.jwks <= 1 + Math.ceil((run.seconds * 1000) / remote.cacheMaxAge), "refetches only per cacheMaxAge");
  });

  const faults: readonly KeyServerMode[] = ["500", "drop", "slow", "not-json", "bad-jwks"];
  for (const mode of faults) {
    test(`JWKS endpoint ${mode}: cached keys keep verifying, an unknown kid is Unavailable, no call waits past the timeout`, async () => {
      keys.mode = mode;
      await sleep(remote.cacheMaxAge + 50); // the fetched set is stale: the next call refetches, and fails
      const before = keys.requests.jwks;
      const run = await drive(
        [
          { name: "valid", clients: valid },
          { name: "valid", clients: valid },
          { name: "valid", clients: valid },
          { name: "unknown kid", clients: unknownKid },
        ],
        1200,
      );
      const fetches = keys.requests.jwks - before;
      report(`JWKS ${mode}`, run, fetches);
      keys.mode = "ok";
      assert.deepEqual(run.outcomes, { valid: { OK: 900 }, "unknown kid": { "Unavailable KEYS_UNAVAILABLE": 300 } });
      assert.ok(run.maxMs < remote.timeoutDuration + slack, `longest call ${run.maxMs.toFixed(0)} ms`);
      // At most one fetch per failureBackoff (plus the one that may be in flight as the run ends).
      const bound = 2 + Math.ceil((run.seconds * 1000) / remote.failureBackoff);
      assert.ok(fetches >= 1 && fetches <= bound, `${fetches} fetches in ${run.seconds.toFixed(2)} s (bound ${bound})`);
    });
  }

  test("rotation under load: a new kid is accepted after one fetch, old tokens keep working", async () => {
    keys.mode = "ok";
    await sleep(remote.failureBackoff + remote.cooldownDuration);
    await drive([{ name: "valid", clients: valid }], 200); // a healthy fetch again: the set is fresh
    const rotated = await createTestSigner("k2");
    keys.jwks = { keys: [...signer.jwks.keys, ...rotated.jwks.keys] };
    const next = clientsFor(server.url, await rotated.sign(claims()));
    await sleep(remote.cooldownDuration + 20);
    const before = keys.requests.jwks;
    // The first wave: 64 calls with the new kid at once share one fetch.
    const first = await drive([{ name: "new kid", clients: next }], inFlight);
    const firstFetches = keys.requests.jwks - before;
    const run = await drive(
      [
        { name: "new kid", clients: next },
        { name: "old kid", clients: valid },
      ],
      1000,
    );
    report("rotation", run, keys.requests.jwks - before);
    assert.deepEqual(first.outcomes, { "new kid": { OK: inFlight } });
    assert.equal(firstFetches, 1, "64 calls with a new kid cost one fetch");
    assert.deepEqual(run.outcomes, { "new kid": { OK: 500 }, "old kid": { OK: 500 } });
  });
});

describe("no key can be had under load", () => {
  for (const mode of ["500", "slow"] as const) {
    test(`JWKS ${mode} from the start: every call Unavailable KEYS_UNAVAILABLE, none Unauthenticated, within the timeout`, async () => {
      const signer = await createTestSigner("k1");
      const keys = await startKeyServer(signer.jwks);
      keys.mode = mode;
      keys.slowMs = hang;
      closers.push(() => keys.close());
      const server = await serverOn(keys);
      const clients = clientsFor(server.url, await signer.sign({ iss: keys.url, aud: "greeter", sub: "alice", scope: "greet" }));
      // A first wave opens the connections (not timed: connection setup on a busy machine).
      const warm = await drive([{ name: "valid", clients }], inFlight);
      const run = await drive([{ name: "valid", clients }], 1000);
      report(`no keys, JWKS ${mode}`, run, keys.requests.jwks);
      assert.deepEqual(warm.outcomes, { valid: { "Unavailable KEYS_UNAVAILABLE": inFlight } });
      assert.deepEqual(run.outcomes, { valid: { "Unavailable KEYS_UNAVAILABLE": 1000 } });
      assert.ok(run.maxMs < remote.timeoutDuration + slack, `longest call ${run.maxMs.toFixed(0)} ms`);
      const bound = 4 + Math.ceil(((run.seconds + warm.seconds) * 1000) / remote.failureBackoff);
      assert.ok(keys.requests.jwks <= bound, `${keys.requests.jwks} fetches (bound ${bound})`);
    });
  }
});

/** A token endpoint on 127.0.0.1 that can be stopped and started again on the same port. */
async function startTokenEndpoint(mint: () => Promise<string>, expiresIn: number) {
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    mint().then((token) =>
      res
        .writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
        .end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: expiresIn })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    get requests() {
      return requests;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    start: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve)),
  };
}

describe("token endpoint down for the client", () => {
  test("calls use the held token, then fail fast as TOKEN_UNAVAILABLE with bounded retries, then recover", async () => {
    const server = await startExampleServer();
    closers.push(() => server.close());
    const issuer = server.devIssuer!;
    const lifetime = 1; // seconds: the held token runs out during the outage
    const endpoint = await startTokenEndpoint(
      () => issuer.mint({ subject: "worker", scopes: ["greet"], ttlSeconds: 600 }),
      lifetime,
    );
    closers.push(() => endpoint.stop());
    const backoff = { backoffMs: 100, maxBackoffMs: 400 };
    const source = createCachedTokenSource({
      load: async () => {
        const res = await fetch(endpoint.url, { method: "POST", signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { access_token: string; expires_in: number };
        return { token: body.access_token, expiresIn: body.expires_in };
      },
      refreshBeforeMs: 200,
      jitterMs: 0,
      ...backoff,
    });
    const clients = protocols.map((p) =>
      createClient(GreeterService, exampleTransport(server.url, p, undefined, [createAuthInterceptor({ token: source })])),
    );
    const kinds = [{ name: "client", clients }];

    const up = await drive(kinds, 1000);
    report("token endpoint up", up, endpoint.requests);
    assert.deepEqual(up.outcomes, { client: { OK: 1000 } });

    await endpoint.stop();
    const outageMs = 2500;
    const deadline = performance.now() + outageMs;
    const requestsBefore = endpoint.requests;
    let loads = 0;
    source.observe((e) => {
      if (e.type === "refresh") loads++;
    });
    const down = await drive(kinds, 200_000, () => performance.now() > deadline);
    report("token endpoint down", down, loads);
    const seen = down.outcomes["client"]!;
    assert.deepEqual(
      Object.keys(seen).filter((o) => o !== "OK" && o !== "Unavailable TOKEN_UNAVAILABLE"),
      [],
      "only accepted calls (held token) or TOKEN_UNAVAILABLE",
    );
    assert.ok((seen["Unavailable TOKEN_UNAVAILABLE"] ?? 0) > 0, "the held token ran out during the outage");
    assert.equal(endpoint.requests, requestsBefore, "the endpoint was down");
    // Back-off: 100, 200, 400, 400 … ms between loads, not one load per call.
    const bound = 3 + Math.ceil(outageMs / backoff.maxBackoffMs);
    assert.ok(loads <= bound, `${loads} loads during a ${outageMs} ms outage (bound ${bound}) for ${down.calls} calls`);
    assert.ok(down.maxMs < 1000 + slack, `longest call ${down.maxMs.toFixed(0)} ms: failures are fast`);

    await endpoint.start();
    const back = performance.now();
    // One caller retrying every 20 ms: the first success comes within one back-off step.
    while ((await outcome(() => clients[0]!.greet({ name: "back" }))) !== "OK" && performance.now() - back < 5000)
      await sleep(20);
    const recoveredMs = performance.now() - back;
    const recovery = await drive(kinds, 1000);
    report(`token endpoint back (first success after ${recoveredMs.toFixed(0)} ms)`, recovery, endpoint.requests);
    assert.ok(recoveredMs < backoff.maxBackoffMs + slack, `recovered after ${recoveredMs.toFixed(0)} ms`);
    assert.deepEqual(recovery.outcomes, { client: { OK: 1000 } });
    assert.ok(endpoint.requests >= 1, "the client came back to the endpoint");
  });
});
