// npm run test:load — Redis faults under load: three servers in this process (A on node-redis and B on
// ioredis fail closed, C on ioredis fails open), each with its own createRedisRevocationList and
// createRedisReplayStore on one redis-server, serve 36 calls in flight (bearer and DPoP, over Connect,
// gRPC and gRPC-web, one call in ten a replayed DPoP proof) while tokens are revoked through every
// server, one each 40 ms after the last was answered, and Redis is hung (SIGSTOP, SIGCONT), killed and restarted empty on the same port,
// and flushed (FLUSHALL). Every call is recorded with when it started and ended and what came of it;
// the assertions are read from those records afterwards:
// - no call accepted with a token revoked (acknowledged) more than 1 s before it started, on any server;
//   a revocation Redis did not acknowledge (it was down or hung) reaches every server within 2 s of Redis's
//   return (each server writes its mirror back when Redis lost its data, and queued writes land);
// - hung (2 s, under the 4 s staleness): bearer calls served from the mirror; DPoP calls refused with
//   REPLAY_STORE_UNAVAILABLE, none accepted; every proof accepted around the hang is a replay on every server;
// - killed: served from the mirror until the staleness, then every call to A and B REVOCATION_UNAVAILABLE
//   and C still serving bearer calls (failMode "open"); restarted empty: every server serves normally
//   within 2 s (the recovery time is printed), and a list started afterwards holds every revocation;
// - flushed: every server writes its mirror back, calls go on being served, no revoked token accepted;
// - a replayed proof is never accepted unless Redis lost its data between the two uses (documented).
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { readAuthFailure } from "@connectauth/core";
import { nodeContextValues } from "@connectauth/node";
import {
  type RedisRevocationEvent,
  type RedisRevocationList,
  createRedisReplayStore,
  createRedisRevocationList,
} from "@connectauth/node/redis";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type ProofKey, proofKey, signProof } from "../../packages/server/src/test-support/dpop.js";
import { type Listening, listenOnLoopback } from "../support/listen.js";
import { type RedisClientKind, type TestConnection, connectRedis } from "../support/redis-clients.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { type Protocol, protocols } from "../support/wire.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const publicOrigin = "https://api.test"; // what every server names in htu (the fleet behind one proxy)
const prefix = "load:faults:";
const inFlight = 36;
const stalenessSeconds = 4;
const heartbeatMs = 100;
const timeoutMs = 300;
/** How soon an acknowledged revocation must be enforced everywhere (the issue's propagation bound). */
const propagationMs = 1000;
/** How soon after Redis is back every server must serve normally (the issue's catch-up bound). */
const recoveryMs = 2000;
const hangMs = 2000;
const revocationsPerSecond = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = () => performance.now();

const fleet: readonly { name: string; kind: RedisClientKind; failMode: "closed" | "open" }[] = [
  { name: "A", kind: "node-redis", failMode: "closed" },
  { name: "B", kind: "ioredis", failMode: "closed" },
  { name: "C", kind: "ioredis", failMode: "open" },
];

interface Instance {
  readonly name: string;
  readonly failMode: "closed" | "open";
  readonly list: RedisRevocationList;
  readonly events: { at: number; event: RedisRevocationEvent }[];
  readonly clients: Record<Protocol, ReturnType<typeof createClient<typeof GreeterService>>>;
  close(): Promise<void>;
}

async function startInstance(
  redis: RedisServer,
  signer: TestSigner,
  { name, kind, failMode }: (typeof fleet)[number],
): Promise<Instance> {
  const connection: TestConnection = await connectRedis(kind, redis.url);
  const events: Instance["events"] = [];
  const list = createRedisRevocationList({
    redis: connection.redis,
    keyPrefix: prefix,
    heartbeatMs,
    timeoutMs,
    stalenessSeconds,
    failMode,
    onEvent: (event) => events.push({ at: clock(), event }),
  });
  const replayStore = createRedisReplayStore({ redis: connection.redis, keyPrefix: `${prefix}dpop:`, timeoutMs });
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({
        issuer,
        audience,
        algorithms: ["ES256"],
        keys: signer.jwks,
        revocation: list,
        dpop: { mode: "allowed", publicOrigin, replayStore },
      }),
    ],
    realm: "greeter",
  });
  const handler = connectNodeAdapter(auth.install({ routes: greeterRoutes, contextValues: nodeContextValues }));
  const listening: Listening = await listenOnLoopback(http2.createServer(handler));
  const baseUrl = `http://${listening.hostPort}`;
  const clients = {
    connect: createClient(GreeterService, createConnectTransport({ baseUrl, httpVersion: "2" })),
    grpc: createClient(GreeterService, createGrpcTransport({ baseUrl })),
    "grpc-web": createClient(GreeterService, createGrpcWebTransport({ baseUrl, httpVersion: "2" })),
  };
  return {
    name,
    failMode,
    list,
    events,
    clients,
    async close() {
      await listening.close();
      await list.close();
      connection.close();
    },
  };
}

/** One call: to which server, with which token (by jti), how it was sent, when, and what came of it. */
interface Call {
  readonly instance: number;
  readonly jti: string;
  readonly sending: "bearer" | "dpop" | "replay";
  readonly start: number;
  end: number;
  /** "ok", or the refusal: reason (and detail), or the code of an error that is no auth refusal. */
  outcome: string;
  /** The refusal's code (undefined when accepted). */
  code?: Code;
  /** For "replay": the call that used the proof first. */
  readonly first?: Call;
  /** For an accepted "dpop" call: its proof, to replay. */
  readonly proof?: string;
}

async function send(instance: Instance, protocol: Protocol, call: Call, headers: Record<string, string>): Promise<void> {
  try {
    await instance.clients[protocol].greet({ name: "load" }, { headers });
    call.outcome = "ok";
  } catch (e) {
    const error = ConnectError.from(e);
    call.code = error.code;
    const failure = readAuthFailure(error);
    const detail = failure?.metadata["detail"];
    call.outcome =
      failure === undefined ? `code ${Code[error.code]}` : detail === undefined ? failure.reason : `${failure.reason} ${detail}`;
  }
  call.end = clock();
}

/** A revocation made during the load: through which server, of which jti, when asked and when Redis acknowledged it. */
interface Revoked {
  readonly jti: string;
  readonly start: number;
  ack?: number;
  failed?: string;
  /** When revoke() resolved or rejected. */
  settled?: number;
}

test("Redis hung, killed and restarted, flushed, under load: no revoked token accepted, fail modes honoured, caught up within 2 s", async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const signer = await createTestSigner("k1");
  const instances: Instance[] = [];
  t.after(async () => {
    for (const instance of instances) await instance.close();
  });
  for (const member of fleet) instances.push(await startInstance(redis, signer, member));
  await Promise.all(instances.map((i) => i.list.caughtUp()));

  // Tokens: bearer and DPoP-bound (one of four keys), one in three kept (never revoked).
  const keys = await Promise.all(Array.from({ length: 4 }, () => proofKey()));
  const bearerTokens = new Map<string, string>();
  const dpopTokens = new Map<string, { token: string; key: ProofKey }>();
  for (let i = 0; i < 900; i++) {
    const jti = `bearer-${i}`;
    bearerTokens.set(jti, await signer.sign({ iss: issuer, aud: audience, sub: `user-${i}`, scope: "greet", jti }));
  }
  for (let i = 0; i < 450; i++) {
    const jti = `dpop-${i}`;
    const key = keys[i % keys.length] as ProofKey;
    dpopTokens.set(jti, {
      token: await signer.sign({ iss: issuer, aud: audience, sub: `user-${i}`, scope: "greet", jti, cnf: { jkt: key.jkt } }),
      key,
    });
  }
  const kept = new Set([...bearerTokens.keys(), ...dpopTokens.keys()].filter((_, i) => i % 3 === 0));
  // Revoked in this order: two bearer tokens, then one DPoP token, and so on.
  const doomedBearer = [...bearerTokens.keys()].filter((jti) => !kept.has(jti));
  const doomedDpop = [...dpopTokens.keys()].filter((jti) => !kept.has(jti));
  const doomed = doomedDpop
    .flatMap((jti, i) => [doomedBearer[2 * i], doomedBearer[2 * i + 1], jti])
    .filter((j) => j !== undefined);
  const bearerJtis = [...bearerTokens.keys()];
  const dpopJtis = [...dpopTokens.keys()];
  const htu = `${publicOrigin}/${GreeterService.typeName}/Greet`;

  const calls: Call[] = [];
  const marks: Record<string, number> = {};
  const accepted: Call[] = []; // accepted DPoP calls, whose proofs are replayed
  const revoked: Revoked[] = [];
  const revokedAt = new Map<string, Revoked>();
  /** When Redis lost its data (killed, flushed): a proof used before may be accepted once more after. */
  const dataLoss: number[] = [];

  // The load: 36 loops, each sending one call after another until stopped.
  let stopping = false;
  let seed = 1;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const loops = Array.from({ length: inFlight }, async (_, loop) => {
    for (let n = loop; !stopping; n++) {
      const index = n % instances.length;
      const instance = instances[index] as Instance;
      const protocol = protocols[Math.floor(n / instances.length) % protocols.length] as Protocol;
      const start = clock();
      if (n % 10 === 0 && accepted.length > 0) {
        // A replay: a proof accepted before, sent to another server (or the same one).
        const first = accepted[accepted.length - 1 - random(Math.min(accepted.length, 200))] as Call;
        const { token } = dpopTokens.get(first.jti) as { token: string };
        const record: Call = { instance: index, jti: first.jti, sending: "replay", start, end: 0, outcome: "", first };
        calls.push(record);
        await send(instance, protocol, record, { authorization: `DPoP ${token}`, dpop: first.proof as string });
      } else if (n % 3 === 0) {
        const jti = dpopJtis[random(dpopJtis.length)] as string;
        const { token, key } = dpopTokens.get(jti) as { token: string; key: ProofKey };
        const proof = await signProof(key, token, { htm: "POST", htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() });
        const record: Call = { instance: index, jti, sending: "dpop", start: clock(), end: 0, outcome: "", proof };
        calls.push(record);
        await send(instance, protocol, record, { authorization: `DPoP ${token}`, dpop: proof });
        if (record.outcome === "ok") accepted.push(record);
      } else {
        const jti = bearerJtis[random(bearerJtis.length)] as string;
        const record: Call = { instance: index, jti, sending: "bearer", start, end: 0, outcome: "" };
        calls.push(record);
        await send(instance, protocol, record, { authorization: `Bearer ${bearerTokens.get(jti)}` });
      }
    }
  });

  // The revocations: one after another through A, B and C in turn, 40 ms after the last was answered, until stopped.
  const revoker = (async () => {
    for (let n = 0; !stopping && n < doomed.length; n++) {
      const jti = doomed[n] as string;
      const record: Revoked = { jti, start: clock() };
      revoked.push(record);
      revokedAt.set(jti, record);
      try {
        await (instances[n % instances.length] as Instance).list.revoke({ issuer, jti });
        record.ack = clock();
        record.settled = record.ack;
      } catch (e) {
        record.failed = (e as { code?: string }).code ?? "unknown";
        record.settled = clock();
      }
      await sleep(1000 / revocationsPerSecond);
    }
  })();

  /** How many revocations settled (acknowledged or not) before a list started now is caught up that it does not hold. */
  const lateJoinerMisses = async (): Promise<number> => {
    const started = clock();
    const connection = await connectRedis("node-redis", redis.url);
    const list = createRedisRevocationList({ redis: connection.redis, keyPrefix: prefix, heartbeatMs, timeoutMs });
    try {
      await list.caughtUp();
      const missed = revoked.filter(
        (r) => (r.settled ?? started) < started && list.check({ issuer, jti: r.jti, digest: "" }) !== "revoked",
      );
      if (missed.length > 0) console.log(`a new list misses ${missed.length} revocations, the first:`, missed[0], marks);
      return missed.length;
    } finally {
      await list.close();
      connection.close();
    }
  };
  /** The jtis attempted before `before` that some server's list does not refuse. */
  const unseen = (before: number) =>
    revoked.filter(
      (r) => r.start < before && instances.some((i) => i.list.check({ issuer, jti: r.jti, digest: "" }) !== "revoked"),
    ).length;

  /** Replays every proof of a kept token accepted in [from, to) on every server: what came of each (all must be jti_replay). */
  const replaySweep = async (from: number, to: number): Promise<Map<string, number>> => {
    const outcomes = new Map<string, number>();
    const proofs = accepted.filter((c) => kept.has(c.jti) && c.start >= from && c.start < to); // no token revoked
    for (let i = 0; i < proofs.length; i += 24) {
      await Promise.all(
        proofs.slice(i, i + 24).flatMap((first) =>
          instances.map(async (instance, index) => {
            const { token } = dpopTokens.get(first.jti) as { token: string };
            const record: Call = {
              instance: index,
              jti: first.jti,
              sending: "replay",
              start: clock(),
              end: 0,
              outcome: "",
              first,
            };
            await send(instance, "connect", record, { authorization: `DPoP ${token}`, dpop: first.proof as string });
            outcomes.set(record.outcome, (outcomes.get(record.outcome) ?? 0) + 1);
          }),
        ),
      );
    }
    return outcomes;
  };

  let hangSweep = new Map<string, number>();
  let misses = { restart: -1, flush: -1, restartUnseen: -1, flushUnseen: -1 };
  try {
    marks["start"] = clock();
    await sleep(3000);

    // Hung: SIGSTOP for 2 s, then SIGCONT.
    marks["hang"] = clock();
    redis.hang();
    await sleep(hangMs);
    redis.resume();
    marks["resume"] = clock();
    await sleep(3000);
    hangSweep = await replaySweep(marks["hang"] - 500, marks["resume"] + 1000);

    // Killed (SIGKILL), past the staleness, then started again empty on the same port.
    marks["stop"] = clock();
    dataLoss.push(clock());
    await redis.stop("SIGKILL");
    marks["stopped"] = clock();
    await sleep(stalenessSeconds * 1000 + 1500);
    await redis.start();
    marks["restarted"] = clock();
    await sleep(recoveryMs + 200);
    const restartUnseen = unseen(marks["restarted"]);
    const restartMisses = await lateJoinerMisses();
    await sleep(800);

    // Flushed.
    dataLoss.push(clock());
    marks["flush"] = clock();
    assert.equal(await redis.command("FLUSHALL"), "+OK");
    marks["flushed"] = clock();
    await sleep(recoveryMs + 200);
    const flushUnseen = unseen(marks["flushed"]);
    const flushMisses = await lateJoinerMisses();
    await sleep(800);
    marks["end"] = clock();
    misses = { restart: restartMisses, flush: flushMisses, restartUnseen, flushUnseen };
  } finally {
    stopping = true;
    await Promise.all([...loops, revoker]);
  }
  const finalSweep = await replaySweep(marks["flushed"] as number, marks["end"] as number);

  // The counts, for the closing note.
  const at = (name: string) => marks[name] as number;
  const byOutcome = new Map<string, number>();
  for (const c of calls) byOutcome.set(c.outcome, (byOutcome.get(c.outcome) ?? 0) + 1);
  const acceptedCount = byOutcome.get("ok") ?? 0;
  const isKept = (c: Call) => kept.has(c.jti) && c.sending !== "replay";
  // Per server: how long after Redis came back its last refusal of a kept token's call started.
  const recovery = (from: number) =>
    instances.map((_, index) => {
      const last = calls.filter(
        (c) => c.instance === index && isKept(c) && c.start >= from && c.start < from + 3000 && c.outcome !== "ok",
      );
      return Math.max(0, ...last.map((c) => c.end - from));
    });
  const afterRestart = recovery(at("restarted"));
  const afterResume = recovery(at("resume"));
  console.log(
    `redis faults under load: ${calls.length} calls over ${((at("end") - at("start")) / 1000).toFixed(1)} s (${inFlight} in flight), ${acceptedCount} accepted; refused: ${[
      ...byOutcome,
    ]
      .filter(([o]) => o !== "ok")
      .sort((a, b) => b[1] - a[1])
      .map(([o, n]) => `${o} ${n}`)
      .join(", ")}`,
  );
  console.log(
    `revocations: ${revoked.length} (${revoked.filter((r) => r.ack !== undefined).length} acknowledged, ${revoked.filter((r) => r.failed !== undefined).length} not stored); ` +
      `normal again after SIGCONT within ${afterResume.map((ms, i) => `${fleet[i]?.name} ${ms.toFixed(0)}`).join(", ")} ms, ` +
      `after the restart within ${afterRestart.map((ms, i) => `${fleet[i]?.name} ${ms.toFixed(0)}`).join(", ")} ms; ` +
      `replays of accepted proofs refused: ${[...hangSweep].map(([o, n]) => `${o} ${n}`).join(", ")} (hang), ${[...finalSweep].map(([o, n]) => `${o} ${n}`).join(", ")} (after the flush)`,
  );

  // No call accepted with a token revoked (acknowledged) more than propagationMs before it started;
  // a revocation not acknowledged (Redis down or hung) counts from Redis's return plus recoveryMs.
  const back = [at("resume"), at("restarted")];
  const deadlineOf = (r: Revoked) =>
    r.ack !== undefined
      ? r.ack + propagationMs
      : (back.find((b) => b > r.start) ?? Number.POSITIVE_INFINITY) + recoveryMs + propagationMs;
  const late = calls.filter((c) => {
    const r = revokedAt.get(c.jti);
    return c.outcome === "ok" && r !== undefined && c.start > deadlineOf(r);
  });
  assert.deepEqual(late.slice(0, 5), [], `${late.length} calls accepted with a token revoked before`);
  assert.equal(misses.restartUnseen, 0, "every revocation reached every server within 2 s of the restart");
  assert.equal(misses.flushUnseen, 0, "every revocation reached every server within 2 s of the flush");
  assert.equal(misses.restart, 0, "a list started after the restart holds every revocation (written back)");
  assert.equal(misses.flush, 0, "a list started after the flush holds every revocation (written back)");
  assert.ok(revoked.filter((r) => r.ack !== undefined).length > 100, "revocations acknowledged under load");
  assert.ok(
    revoked.some((r) => r.failed === "REVOCATION_NOT_STORED"),
    "revoke refused while Redis was down",
  );

  // A replayed proof is never accepted, unless Redis lost its data between its two uses.
  const replayed = calls.filter(
    (c) => c.sending === "replay" && c.outcome === "ok" && !dataLoss.some((d) => d > (c.first as Call).start && d < c.end),
  );
  assert.deepEqual(replayed.slice(0, 5), [], `${replayed.length} replayed proofs accepted`);
  assert.ok(calls.filter((c) => c.sending === "replay" && c.outcome === "INVALID_DPOP_PROOF jti_replay").length > 100);
  assert.deepEqual([...hangSweep.keys()], ["INVALID_DPOP_PROOF jti_replay"], "each proof accepted around the hang was recorded");
  assert.deepEqual([...finalSweep.keys()], ["INVALID_DPOP_PROOF jti_replay"], "each proof accepted after the flush was recorded");
  assert.ok((hangSweep.get("INVALID_DPOP_PROOF jti_replay") ?? 0) > 30);

  // Calls sent and answered within [from, to]
  const inWindow = (c: Call, from: number, to: number) => c.start >= from && c.end <= to;
  const outcomesOf = (list: Call[]) => [...new Set(list.map((c) => c.outcome))].sort();
  const codesOf = (list: Call[]) => [...new Set(list.map((c) => c.code))];

  // Normal before any fault, and after each return: every kept token's call accepted.
  for (const [from, to, what] of [
    [at("start"), at("hang"), "before the faults"],
    [at("resume") + recoveryMs, at("stop"), "after SIGCONT"],
    [at("restarted") + recoveryMs, at("flush"), "after the restart"],
    [at("flush"), at("end"), "across the flush"],
  ] as const) {
    const normal = calls.filter((c) => isKept(c) && inWindow(c, from, to));
    assert.ok(normal.length > 50, `${what}: ${normal.length} calls`);
    assert.deepEqual(outcomesOf(normal), ["ok"], what);
  }
  assert.ok(Math.max(...afterRestart) < recoveryMs, `every server normal within 2 s of the restart: ${afterRestart}`);
  assert.ok(Math.max(...afterResume) < recoveryMs, `every server normal within 2 s of SIGCONT: ${afterResume}`);
  for (const instance of instances) {
    assert.ok(
      instance.events.some((e) => e.event.type === "republished" && e.at > at("restarted")),
      `${instance.name} wrote its mirror back after the restart`,
    );
    assert.ok(
      instance.events.some((e) => e.event.type === "republished" && e.at > at("flushed")),
      `${instance.name} wrote its mirror back after the flush`,
    );
  }

  // Hung: bearer calls of kept tokens served from the mirror; no DPoP call both sent and answered while
  // Redis was hung accepted, the kept tokens' ones refused with REPLAY_STORE_UNAVAILABLE.
  const hung = calls.filter((c) => c.start >= at("hang") + 20 && c.end <= at("resume"));
  assert.deepEqual(outcomesOf(hung.filter((c) => isKept(c) && c.sending === "bearer")), ["ok"]);
  assert.deepEqual(
    hung.filter((c) => c.sending !== "bearer" && c.outcome === "ok"),
    [],
    "no DPoP call accepted while hung",
  );
  const hungDpop = hung.filter((c) => isKept(c) && c.sending === "dpop");
  assert.ok(hungDpop.length > 30);
  assert.deepEqual(outcomesOf(hungDpop), ["REPLAY_STORE_UNAVAILABLE replay_store"]);
  assert.deepEqual(codesOf(hungDpop), [Code.Unavailable]);
  for (const instance of instances) {
    const faults = instance.events.filter((e) => e.event.type === "fault" && e.at > at("hang") && e.at < at("resume"));
    assert.deepEqual(
      faults.map((e) => e.event),
      [{ type: "fault", error: "timeout" }],
      `${instance.name} reported the hung Redis as a timeout`,
    );
  }

  // Killed: within the staleness, bearer calls served from the mirror everywhere; past it (and a
  // margin) every call to A and B refused REVOCATION_UNAVAILABLE, and C's bearer calls still served.
  const fresh = calls.filter(
    (c) => isKept(c) && c.sending === "bearer" && inWindow(c, at("stopped"), at("stopped") + stalenessSeconds * 1000 - 1000),
  );
  assert.ok(fresh.length > 100);
  assert.deepEqual(outcomesOf(fresh), ["ok"], "served within the staleness");
  const stale = calls.filter((c) => inWindow(c, at("stopped") + stalenessSeconds * 1000 + 100, at("restarted")));
  const closedStale = stale.filter((c) => instances[c.instance]?.failMode === "closed");
  assert.ok(closedStale.length > 50);
  assert.deepEqual(outcomesOf(closedStale), ["REVOCATION_UNAVAILABLE revocation_list"], "fail closed past the staleness");
  assert.deepEqual(codesOf(closedStale), [Code.Unavailable]);
  const openStale = stale.filter((c) => instances[c.instance]?.failMode === "open" && isKept(c) && c.sending === "bearer");
  assert.ok(openStale.length > 20);
  assert.deepEqual(outcomesOf(openStale), ["ok"], "fail open: still served from the mirror");
  for (const instance of instances) {
    assert.ok(
      instance.events.some((e) => e.event.type === "stale" && e.at > at("stopped") && e.at < at("restarted")),
      `${instance.name} reported the staleness`,
    );
  }
});
