// Longer than most files: one state machine (catch-up, numbered writes, self-ping, staleness, epoch
// write-back) whose transitions read best together; the Redis calls are in redis-client.ts.
import { randomUUID } from "node:crypto";
import {
  type Revocation,
  type RevocationList,
  type RevocationListStatus,
  createMemoryRevocationList,
  normalizeRevocation,
  revocationEndMs,
} from "@connectauth/server/protocol";
import { type RedisConnection, withinMs } from "./redis-client.js";
import { RevocationNotStoredError } from "./redis-errors.js";
import { finiteAtLeast0, integerAtLeast1 } from "./redis-option-checks.js";

/** Why a Redis revocation list is not caught up, as a fixed word. */
export type RedisRevocationFault =
  /** A command failed: Redis is down, refused the connection, or answered with an error. */
  | "unreachable"
  /** Redis did not answer in time (a hung or overloaded server, a network that drops packets). */
  | "timeout"
  /** Revocations were published that this instance did not receive (its subscription was cut): catching up. */
  | "gap"
  /** Redis lost revocations it had (FLUSHALL, a restart without persistence, an older snapshot): re-publishing the mirror. */
  | "flushed";

/** What a Redis revocation list reports through `onEvent`. */
export type RedisRevocationEvent =
  /** Caught up with Redis (at start, and after each fault): `revocations` is how many Redis held at the last catch-up. */
  | { readonly type: "ready"; readonly revocations: number }
  /** No longer known to be caught up; `check` answers from the mirror until `stalenessSeconds` have passed. */
  | { readonly type: "fault"; readonly error: RedisRevocationFault }
  /** Not caught up for `stalenessSeconds` since `staleSinceMs`: with failMode "closed", `check` now answers "unavailable". */
  | { readonly type: "stale"; readonly failMode: "closed" | "open"; readonly staleSinceMs: number }
  /** Redis had lost revocations: this instance wrote back the `revocations` it held. */
  | { readonly type: "republished"; readonly revocations: number };

/** Options of {@link createRedisRevocationList}. */
export interface RedisRevocationListOptions {
  /** The connection for commands: `fromNodeRedis(client)` or `fromIoredis(client)`. */
  readonly redis: RedisConnection;
  /** A second connection, for SUBSCRIBE (it sends nothing else). Default `redis.duplicate()`, closed by `close()`. */
  readonly subscriber?: RedisConnection;
  /** Put before every key and channel, so that one Redis serves several lists. Default "connectauth:revocations:". */
  readonly keyPrefix?: string;
  /** How long the mirror is trusted while the list is not caught up, in seconds. Default 30. */
  readonly stalenessSeconds?: number;
  /** Past `stalenessSeconds`: "closed" (default) answers "unavailable", "open" keeps answering from the mirror. */
  readonly failMode?: "closed" | "open";
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Called on every change of state (never with a token, a revocation, or an error's text). */
  readonly onEvent?: (event: RedisRevocationEvent) => void;
  /** As in `createMemoryRevocationList`: how long past `before` (or from now, without `expiresAt`) an entry is kept. Default 86400. */
  readonly maxTokenLifetimeSeconds?: number;
  /** As in `createMemoryRevocationList`: how much longer every entry is kept. Default 60. */
  readonly clockToleranceSeconds?: number;
  /** How often the list confirms it is caught up, in ms. Default 500. */
  readonly heartbeatMs?: number;
  /** How long Redis may take to answer a command, in ms (a catch-up may take ten times this). Default 1000. */
  readonly timeoutMs?: number;
}

/** A revocation list shared through Redis. */
export interface RedisRevocationList extends RevocationList {
  /** Resolves once the list is caught up (at once if it is); rejects if the list is closed first. */
  caughtUp(): Promise<void>;
  /** Stops the heartbeat and unsubscribes (closing the subscriber it opened); the connections you gave stay open. */
  close(): Promise<void>;
}

// The keys: a sorted set of live revocations (member: the revocation's JSON, score: when it may be
// forgotten, ms), the number of the last write, and a random epoch that a flush (or a restart without
// persistence) deletes. Each script is atomic: no write falls between a snapshot and its number.

// How both scripts begin (KEYS: entries, seq, epoch): `epoch` is the epoch key's value, set to
// ARGV[at] when there is none; the entries that may be forgotten by ARGV[at + 1] (now, ms) are removed.
const epochAndTrim = (at: number) => `
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[${at}]
  redis.call('SET', KEYS[3], epoch)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[${at + 1}])`;

// KEYS: entries, seq, epoch. ARGV: events channel, a new epoch (if there is none), now (ms), then member, score pairs.
const writeScript = `${epochAndTrim(2)}
local members = {}
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], 'GT', ARGV[i + 1], ARGV[i])
  members[#members + 1] = ARGV[i]
end
local seq = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], '{"epoch":"' .. epoch .. '","seq":' .. seq .. ',"revocations":[' .. table.concat(members, ',') .. ']}')
return {epoch, seq}
`;

// KEYS: entries, seq, epoch. ARGV: a new epoch (if there is none), now (ms).
const snapshotScript = `${epochAndTrim(1)}
return {epoch, tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('ZRANGE', KEYS[1], 0, -1)}
`;

// KEYS: seq, epoch. ARGV: this instance's ping channel, the ping's number. Publishes "<number> <epoch> <seq>".
const heartbeatScript = `
local epoch = redis.call('GET', KEYS[2]) or ''
local seq = redis.call('GET', KEYS[1]) or '0'
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. epoch .. ' ' .. seq)
return 1
`;

// Revocations per write when the mirror is re-published.
const batchSize = 500;

class Timeout extends Error {}
const timeout = () => new Timeout();
const faultOf = (error: unknown): RedisRevocationFault => (error instanceof Timeout ? "timeout" : "unreachable");

/**
 * Creates a revocation list that every instance of a service shares through Redis, and checks locally:
 * each instance mirrors Redis in a `createMemoryRevocationList`, so `check` is a few `Map` reads and
 * never waits for the network.
 *
 * How it stays caught up: `revoke` adds the revocation to a sorted set and publishes it, in one script,
 * numbered; every instance subscribes and applies what is published. At start, and whenever a number
 * is missed (a cut subscription), it reads the whole set again. Every `heartbeatMs` it publishes a ping
 * to itself with the last number: receiving it proves that it has seen every revocation written before,
 * and only then is it ready. While it is not caught up, `check` answers from the mirror for
 * `stalenessSeconds`, then "unavailable" (failMode "closed") or still from the mirror ("open"). A
 * Redis that lost its data is noticed by a random epoch key that is gone or changed: every instance
 * that notices writes its whole mirror back (so a flush never makes a revoked token valid while one
 * instance holds it), then reads the set again. Entries expire in Redis as in the mirror (each write
 * and read trims the set by the entries' scores), so Redis holds only live revocations.
 *
 * ```ts
 * import { createClient } from "redis";
 * import { createRedisRevocationList, fromNodeRedis } from "@connectauth/node/redis";
 * const client = createClient({ url: process.env.REDIS_URL });
 * client.on("error", () => {}); // the list reports faults through onEvent and status()
 * await client.connect();
 * const revocations = createRedisRevocationList({ redis: fromNodeRedis(client), onEvent: (e) => log.info(e) });
 * await revocations.caughtUp();
 * await revocations.revoke({ issuer: "https://issuer.example.com/", subject: "alice", before: Date.now() / 1000 });
 * ```
 *
 * Not checked: who may write to Redis (anyone who can may revoke any token, or flush the list). Revocations
 * written only to a Redis that then lost them, while no instance held them (every instance restarted
 * after the flush), are gone: use a persistent Redis for that. An instance that starts after a flush and
 * before another instance has written its mirror back is ready without those revocations until it
 * receives them (a heartbeat later). With failMode "open", a list that never caught up answers "clear".
 *
 * @throws TypeError on a missing `redis`, a `failMode` other than "closed" and "open", or a number option out of range.
 */
export function createRedisRevocationList(options: RedisRevocationListOptions): RedisRevocationList {
  const what = "createRedisRevocationList";
  const { redis, onEvent } = options;
  if (typeof redis?.eval !== "function") throw new TypeError(`${what}: redis is required (fromNodeRedis or fromIoredis)`);
  if (options.subscriber !== undefined && typeof options.subscriber.subscribe !== "function") {
    throw new TypeError(`${what}: subscriber must be a RedisConnection`);
  }
  const prefix = options.keyPrefix ?? "connectauth:revocations:";
  if (typeof prefix !== "string") throw new TypeError(`${what}: keyPrefix must be a string`);
  const failMode = options.failMode ?? "closed";
  if (failMode !== "closed" && failMode !== "open") throw new TypeError(`${what}: failMode must be "closed" or "open"`);
  const stalenessMs = finiteAtLeast0(options.stalenessSeconds, 30, "stalenessSeconds", what) * 1000;
  const maxLifetime = finiteAtLeast0(options.maxTokenLifetimeSeconds, 86400, "maxTokenLifetimeSeconds", what);
  const tolerance = finiteAtLeast0(options.clockToleranceSeconds, 60, "clockToleranceSeconds", what);
  const heartbeatMs = integerAtLeast1(options.heartbeatMs, 500, "heartbeatMs", what);
  const timeoutMs = integerAtLeast1(options.timeoutMs, 1000, "timeoutMs", what);
  const now = options.now ?? Date.now;
  const mirror = createMemoryRevocationList({ now, maxTokenLifetimeSeconds: maxLifetime, clockToleranceSeconds: tolerance });
  const seqKey = `${prefix}seq`;
  const epochKey = `${prefix}epoch`;
  const keys = [`${prefix}entries`, seqKey, epochKey];
  const eventsChannel = `${prefix}events`;
  const pingChannel = `${prefix}ping:${randomUUID()}`;

  // Where the mirror stands: the epoch and number of the last write it holds, when it was last known
  // caught up (by `now`), and what the next tick must do first.
  let epoch: string | undefined;
  let lastSeq = 0;
  let freshAt = Number.NEGATIVE_INFINITY;
  const startedAt = now();
  let pending: "catch-up" | "republish" | undefined = "catch-up";
  let syncing = false;
  let seenWhileSyncing: { epoch: string; seq: number }[] = [];
  let ready = false;
  let lastError: RedisRevocationFault | undefined;
  let staleReported = false;
  let closed = false;
  let waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  // Pings by number, with when each was sent (by `now`, for freshness); only those sent after the last
  // catch-up count. The one awaited is timed on the monotonic clock, which no clock change moves.
  const pings = new Map<number, number>();
  let pingNumber = 0;
  let pingFloor = 0;
  let awaitedPing: number | undefined;
  let awaitedSince = 0;
  // How many revocations Redis held at the last catch-up; whether a catch-up is running.
  let heldInRedis = 0;
  let busy = false;

  const emit = (event: RedisRevocationEvent) => {
    try {
      onEvent?.(event);
    } catch {
      // A listener's failure is its own; the list carries on.
    }
  };
  const fault = (error: RedisRevocationFault) => {
    const changed = ready || lastError !== error;
    ready = false;
    lastError = error;
    if (changed) emit({ type: "fault", error });
  };
  const staleSince = () => (freshAt > Number.NEGATIVE_INFINITY ? freshAt : startedAt);

  // The memory list applies a revocation before its promise settles (its revoke has no await); an
  // invalid one (a forged message) is dropped.
  const apply = (revocation: unknown) => {
    mirror.revoke(revocation as Revocation).catch(() => {});
  };

  let subscriber: RedisConnection | undefined;
  let subscription: Promise<() => Promise<void>> | undefined;
  const subscribe = () => {
    if (subscription === undefined) {
      subscriber ??= options.subscriber ?? redis.duplicate();
      const started = subscriber.subscribe([eventsChannel, pingChannel], onMessage);
      subscription = started;
      started.catch(() => {
        if (subscription === started) subscription = undefined;
      });
    }
    return subscription;
  };

  function onMessage(channel: string, message: string) {
    if (closed) return;
    if (channel === pingChannel) onPing(message);
    else if (channel === eventsChannel) onWrite(message);
  }

  function onWrite(message: string) {
    let write: { epoch?: unknown; seq?: unknown; revocations?: unknown };
    try {
      write = JSON.parse(message);
    } catch {
      return pingSoon();
    }
    if (Array.isArray(write?.revocations)) for (const revocation of write.revocations) apply(revocation);
    if (typeof write?.epoch !== "string" || typeof write.seq !== "number") return pingSoon();
    if (syncing || pending !== undefined) seenWhileSyncing.push({ epoch: write.epoch, seq: write.seq });
    else follow(write.epoch, write.seq);
  }

  // Writes come in order: the next number moves the mirror on; one seen already is a late copy; any
  // other (a skipped number, another epoch) asks a ping, which tells a gap, a flush, or nothing.
  function follow(writeEpoch: string, seq: number) {
    if (writeEpoch === epoch && seq === lastSeq + 1) lastSeq = seq;
    else if (!(writeEpoch === epoch && seq <= lastSeq)) pingSoon();
  }

  function onPing(message: string) {
    const [numberText = "", pingEpoch = "", seqText = ""] = message.split(" ");
    const number = Number(numberText);
    const sentAt = pings.get(number);
    if (sentAt === undefined || number <= pingFloor || syncing || pending !== undefined) return;
    for (const n of pings.keys()) if (n <= number) pings.delete(n);
    if (awaitedPing !== undefined && number >= awaitedPing) awaitedPing = undefined;
    const seq = Number(seqText);
    if (pingEpoch !== epoch || seq < lastSeq) return recover(epoch === undefined ? "catch-up" : "republish", "flushed");
    if (seq > lastSeq) return recover("catch-up", "gap");
    freshAt = Math.max(freshAt, sentAt);
    // A ping that waited long (in a hung Redis) proves little about now: ready only on a recent one.
    if (now() - sentAt > timeoutMs) return pingSoon();
    lastError = undefined;
    staleReported = false;
    if (!ready) {
      ready = true;
      emit({ type: "ready", revocations: heldInRedis });
      for (const waiter of waiters) waiter.resolve();
      waiters = [];
    }
  }

  function recover(what: "catch-up" | "republish", error: RedisRevocationFault) {
    pending = pending === "republish" || what === "republish" ? "republish" : "catch-up";
    fault(error);
    setTimeout(tick, 0);
  }

  function ping() {
    if (closed || syncing || pending !== undefined) return;
    if (awaitedPing !== undefined) {
      if (performance.now() - awaitedSince < timeoutMs) return;
      fault("timeout");
    }
    const number = ++pingNumber;
    pings.set(number, now());
    for (const n of pings.keys()) if (pings.size > 8) pings.delete(n);
    awaitedPing = number;
    awaitedSince = performance.now();
    withinMs(redis.eval(heartbeatScript, [seqKey, epochKey], [pingChannel, String(number)]), timeoutMs, timeout).catch(
      (error: unknown) => {
        if (!closed) fault(faultOf(error));
      },
    );
  }

  function pingSoon() {
    if (awaitedPing === undefined) setTimeout(ping, 0);
  }

  // One write of revocations (normalized): added, numbered and published at once; the epoch it went to.
  async function write(revocations: readonly Revocation[]): Promise<string | undefined> {
    const args = [eventsChannel, randomUUID(), String(now())];
    for (const r of revocations) args.push(JSON.stringify(r), String(revocationEndMs(r, maxLifetime, tolerance)));
    const reply = await withinMs(redis.eval(writeScript, keys, args), timeoutMs, timeout);
    return Array.isArray(reply) && typeof reply[0] === "string" ? reply[0] : undefined;
  }

  async function catchUp() {
    const republish = pending === "republish";
    pending = undefined;
    syncing = true;
    seenWhileSyncing = [];
    try {
      await withinMs(subscribe(), timeoutMs, timeout);
      if (republish) {
        const held = await mirror.list();
        for (let i = 0; i < held.length; i += batchSize) await write(held.slice(i, i + batchSize));
        emit({ type: "republished", revocations: held.length });
      }
      const reply = await withinMs(redis.eval(snapshotScript, keys, [randomUUID(), String(now())]), timeoutMs * 10, timeout);
      const [snapshotEpoch, seq, members] = Array.isArray(reply) ? reply : [];
      if (typeof snapshotEpoch !== "string" || typeof seq !== "number" || !Array.isArray(members)) throw new Error("reply");
      for (const member of members) {
        try {
          apply(JSON.parse(String(member)));
        } catch {
          // Not a revocation of this list: skipped.
        }
      }
      epoch = snapshotEpoch;
      lastSeq = seq;
      heldInRedis = members.length;
      for (const seen of seenWhileSyncing.sort((a, b) => a.seq - b.seq)) {
        if (seen.epoch === epoch && seen.seq === lastSeq + 1) lastSeq = seen.seq;
      }
      pingFloor = pingNumber;
      awaitedPing = undefined;
      pings.clear();
    } catch (error) {
      pending ??= republish ? "republish" : "catch-up";
      if (!closed) fault(faultOf(error));
    } finally {
      syncing = false;
      seenWhileSyncing = [];
    }
    ping();
  }

  function tick() {
    if (closed) return;
    if (!ready && !staleReported && now() - staleSince() > stalenessMs) {
      staleReported = true;
      emit({ type: "stale", failMode, staleSinceMs: staleSince() });
    }
    if (busy) return;
    if (pending === undefined) return ping();
    busy = true;
    catchUp().finally(() => {
      busy = false;
    });
  }

  const timer = setInterval(tick, heartbeatMs);
  timer.unref?.();
  setTimeout(tick, 0);

  return {
    check(token) {
      if (failMode === "closed" && !(now() - freshAt <= stalenessMs)) return "unavailable";
      return mirror.check(token);
    },
    async revoke(revocation) {
      const normalized = normalizeRevocation(revocation, now(), maxLifetime);
      if (!(revocationEndMs(normalized, maxLifetime, tolerance) > now())) return;
      // This instance refuses the token at once, whatever Redis answers.
      await mirror.revoke(normalized);
      let written: string | undefined;
      try {
        written = await write([normalized]);
      } catch (error) {
        throw new RevocationNotStoredError(error instanceof Timeout ? "timeout" : "error");
      }
      if (written === undefined) throw new RevocationNotStoredError("error");
      if (written !== epoch) pingSoon();
    },
    list: () => mirror.list(),
    status(): RevocationListStatus {
      if (ready) return { ready };
      return lastError === undefined ? { ready, staleSinceMs: staleSince() } : { ready, staleSinceMs: staleSince(), lastError };
    },
    caughtUp() {
      if (ready) return Promise.resolve();
      if (closed) return Promise.reject(new Error("the revocation list is closed"));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      clearInterval(timer);
      for (const waiter of waiters) waiter.reject(new Error("the revocation list is closed"));
      waiters = [];
      if (subscriber === undefined) return;
      if (options.subscriber === undefined) {
        subscriber.disconnect();
        return;
      }
      const unsubscribe = await withinMs(subscription ?? Promise.reject(new Error("none")), timeoutMs, timeout).catch(
        () => undefined,
      );
      await unsubscribe?.().catch(() => {});
    },
  };
}
