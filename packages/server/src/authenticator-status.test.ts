// The readiness hooks of the JWT authenticators: their keys' status and their revocation list's,
// ready only when both are; prefetch of the keys; change events from the keys, and from the list
// (read every 250 ms while someone listens: the interval is driven by mock timers here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import type { AuthenticatorStatus } from "./auth-readiness.js";
import { authenticatorStatusHooks } from "./authenticator-status.js";
import { createJwtAuthenticator } from "./jwt-authenticator.js";
import type { KeySourceStatus } from "./key-source-status.js";
import { createMultiIssuerJwtAuthenticator } from "./multi-issuer-jwt-authenticator.js";
import { type RevocationList, type RevocationListStatus, createMemoryRevocationList } from "./revocation-list.js";

const es = await generateKeyPair("ES256");
const jwks = { keys: [{ ...(await exportJWK(es.publicKey)), kid: "k1", alg: "ES256" }] };
const base = { issuer: "https://issuer.test", audience: "greeter", algorithms: ["ES256"] };

/** A revocation list whose status the test sets. */
function listWith(initial: RevocationListStatus): RevocationList & { set(s: RevocationListStatus): void } {
  let current = initial;
  return {
    ...createMemoryRevocationList(),
    status: () => current,
    set(s) {
      current = s;
    },
  };
}

/** A key source whose status the test sets, with its listeners and prefetches counted. */
function keysWith(initial: AuthenticatorStatus) {
  let current = initial;
  const listeners = new Set<(s: AuthenticatorStatus) => void>();
  let prefetches = 0;
  const keys: KeySourceStatus = {
    status: () => current,
    prefetch: async () => {
      prefetches++;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {},
  };
  return {
    keys,
    set(s: AuthenticatorStatus) {
      current = s;
      for (const l of listeners) l(s);
    },
    get listeners() {
      return listeners.size;
    },
    get prefetches() {
      return prefetches;
    },
  };
}

test("keys held in memory are ready; with your own lookup and no list there is no status at all", () => {
  const local = createJwtAuthenticator({ ...base, keys: jwks });
  assert.deepEqual(local.status?.(), { ready: true });
  const own = createJwtAuthenticator({ ...base, keys: async () => es.publicKey });
  assert.deepEqual([own.status, own.prefetch, own.onStatusChange], [undefined, undefined, undefined]);
  assert.equal(authenticatorStatusHooks(undefined, undefined), undefined);
});

test("ready only when the keys are and the list is caught up; the list's fault as revocation_<word>", () => {
  const list = listWith({ ready: false, staleSinceMs: 1, lastError: "unreachable" });
  const single = createJwtAuthenticator({ ...base, keys: jwks, revocation: list });
  const own = createJwtAuthenticator({ ...base, keys: async () => es.publicKey, revocation: list });
  const multi = createMultiIssuerJwtAuthenticator({
    issuers: [
      { ...base, keys: jwks },
      { ...base, issuer: "https://b.test", keys: async () => es.publicKey },
    ],
    revocation: list,
  });
  for (const a of [single, own, multi]) {
    assert.deepEqual(a.status?.(), { ready: false, lastError: "revocation_unreachable" });
  }
  list.set({ ready: false, staleSinceMs: 1 });
  assert.deepEqual(single.status?.(), { ready: false }, "catching up: no fault yet");
  list.set({ ready: true });
  for (const a of [single, own, multi]) assert.deepEqual(a.status?.(), { ready: true });
  // The keys' own fault comes first, and keys that are down are not ready whatever the list says.
  const k = keysWith({ ready: false, lastError: "timeout", nextFetchAtMs: 5 });
  const hooks = authenticatorStatusHooks(k.keys, list);
  assert.deepEqual(hooks?.status(), { ready: false, lastError: "timeout", nextFetchAtMs: 5 });
  list.set({ ready: false, lastError: "gap" });
  assert.deepEqual(hooks?.status(), { ready: false, lastError: "timeout", nextFetchAtMs: 5 });
  k.set({ ready: true, keysAgeMs: 3 });
  assert.deepEqual(hooks?.status(), { ready: false, keysAgeMs: 3, lastError: "revocation_gap" });
  // A list whose status throws is not ready.
  const broken = { ...list, status: () => assert.fail("down") } as RevocationList;
  assert.deepEqual(authenticatorStatusHooks(undefined, broken)?.status(), {
    ready: false,
    lastError: "revocation_status_failed",
  });
});

test("prefetch fetches the keys; change events come from the keys and from the list (polled while listened to)", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const k = keysWith({ ready: true });
  const list = listWith({ ready: true });
  const hooks = authenticatorStatusHooks(k.keys, list);
  assert.ok(hooks !== undefined);
  await hooks.prefetch();
  assert.equal(k.prefetches, 1);
  const heard: boolean[] = [];
  const stop = hooks.onStatusChange(() => heard.push(hooks.status().ready));
  assert.equal(k.listeners, 1);
  list.set({ ready: false, lastError: "timeout" });
  t.mock.timers.tick(249);
  assert.deepEqual(heard, [], "not read yet");
  t.mock.timers.tick(1);
  assert.deepEqual(heard, [false]);
  t.mock.timers.tick(1000);
  assert.deepEqual(heard, [false], "told once per change");
  list.set({ ready: true });
  t.mock.timers.tick(250);
  assert.deepEqual(heard, [false, true]);
  k.set({ ready: false, lastError: "network" });
  assert.deepEqual(heard, [false, true, false], "the keys' events at once");
  // A listener that throws does not keep the others from hearing.
  const second: boolean[] = [];
  const stopThrowing = hooks.onStatusChange(() => {
    throw new Error("listener");
  });
  const stopSecond = hooks.onStatusChange(() => second.push(hooks.status().ready));
  k.set({ ready: true });
  assert.deepEqual(second, [true]);
  for (const s of [stop, stopThrowing, stopSecond]) s();
  assert.equal(k.listeners, 0, "the last unsubscribe leaves the keys");
  list.set({ ready: false });
  t.mock.timers.tick(1000);
  assert.deepEqual(heard, [false, true, false, true], "nothing after the unsubscribe");
  assert.throws(() => hooks.onStatusChange("no" as never), TypeError);
});

test("with no list, the keys' status as it is", () => {
  const k = keysWith({ ready: true, keysAgeMs: 7, nextFetchAtMs: 9 });
  const hooks = authenticatorStatusHooks(k.keys, undefined);
  assert.deepEqual(hooks?.status(), { ready: true, keysAgeMs: 7, nextFetchAtMs: 9 });
});
