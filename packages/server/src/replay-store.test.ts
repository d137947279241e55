import { test } from "node:test";
import assert from "node:assert/strict";
import { type ReplayStore, ReplayStoreFullError, createMemoryReplayStore, immediateAddOf } from "./replay-store.js";

test("a key is new once, then a replay until it expires (by the injected clock), then new again", async () => {
  let clock = 1_000_000;
  const store = createMemoryReplayStore({ now: () => clock });
  assert.equal(await store.add("a", clock + 1500), true);
  assert.equal(await store.add("a", clock + 1500), false, "a replay");
  assert.equal(await store.add("b", clock + 1500), true, "keys are independent");
  clock += 1499;
  assert.equal(await store.add("a", clock + 1500), false, "still live one millisecond before its expiry");
  clock += 1;
  assert.equal(await store.add("a", clock + 1500), true, "expired: recorded again");
  assert.equal(await store.add("a", clock + 1500), false);
});

test("an expiry already past is answered true and takes no room", async () => {
  const clock = 1_000_000;
  const store = createMemoryReplayStore({ maxEntries: 1, now: () => clock });
  assert.equal(await store.add("old", clock - 1), true);
  assert.equal(await store.add("old", clock - 1), true, "nothing was recorded");
  assert.equal(await store.add("live", clock + 10_000), true, "the one slot is still free");
});

test("full of live entries: add rejects with REPLAY_STORE_FULL and no live entry is dropped", async () => {
  let clock = 1_000_000;
  const store = createMemoryReplayStore({ maxEntries: 3, now: () => clock });
  for (const key of ["a", "b", "c"]) assert.equal(await store.add(key, clock + 60_000), true);
  const full = await store.add("d", clock + 60_000).then(
    () => assert.fail("a full store must not accept"),
    (error: unknown) => error,
  );
  assert.ok(full instanceof ReplayStoreFullError);
  assert.equal(full.code, "REPLAY_STORE_FULL");
  await assert.rejects(store.add("e", clock + 1), { code: "REPLAY_STORE_FULL" }, "a short expiry does not jump the queue");
  clock += 30_000;
  for (const key of ["a", "b", "c"]) assert.equal(await store.add(key, clock + 60_000), false, `${key} is still recorded`);
  assert.equal(await store.add("d", clock + 60_000).catch(() => "full"), "full", "still full");
});

test("expired entries are swept to make room, and the room is reused", async () => {
  let clock = 1_000_000;
  const store = createMemoryReplayStore({ maxEntries: 2, now: () => clock });
  assert.equal(await store.add("a", clock + 1000), true);
  assert.equal(await store.add("b", clock + 1200), true);
  clock += 2000; // within a second of the last expiry, and a new second has begun
  assert.equal(await store.add("c", clock + 60_000), true);
  assert.equal(await store.add("d", clock + 60_000), true);
  await assert.rejects(store.add("e", clock + 60_000), { code: "REPLAY_STORE_FULL" });
  assert.equal(await store.add("c", clock + 60_000), false);
});

test("a key recorded again after expiring is not dropped when its old record is swept", async () => {
  let clock = 1_000_000;
  const store = createMemoryReplayStore({ now: () => clock });
  assert.equal(await store.add("k", clock + 500), true);
  clock += 600; // expired, not yet swept (same second bucket)
  assert.equal(await store.add("k", clock + 10_000), true);
  clock += 1500; // the old record's second is swept now
  assert.equal(await store.add("x", clock + 10_000), true);
  assert.equal(await store.add("k", clock + 10_000), false, "the new record survived the sweep");
});

test("many expired seconds are swept in one go, whatever their order of insertion", async () => {
  let clock = 1_000_000;
  const store = createMemoryReplayStore({ maxEntries: 100, now: () => clock });
  for (let i = 0; i < 100; i++) assert.equal(await store.add(`k${i}`, clock + ((i * 7919) % 50) * 1000 + 1), true);
  clock += 51_000;
  for (let i = 0; i < 100; i++) assert.equal(await store.add(`n${i}`, clock + 60_000), true, `room for n${i}`);
  await assert.rejects(store.add("one-more", clock + 60_000), { code: "REPLAY_STORE_FULL" });
});

test("bad options throw a TypeError; a bad add rejects with one", async () => {
  for (const maxEntries of [0, -1, 1.5, Number.NaN, "10" as unknown as number]) {
    assert.throws(() => createMemoryReplayStore({ maxEntries }), TypeError, String(maxEntries));
  }
  assert.throws(() => createMemoryReplayStore({ now: 5 as unknown as () => number }), TypeError);
  const store = createMemoryReplayStore();
  await assert.rejects(store.add("k", Number.NaN), TypeError);
  await assert.rejects(store.add("k", Number.POSITIVE_INFINITY), TypeError);
  await assert.rejects(store.add(7 as unknown as string, Date.now() + 1000), TypeError);
});

test("immediateAddOf: a memory store's add answered at once, on the same entries; no other store's", async () => {
  const clock = 1_000_000;
  const store = createMemoryReplayStore({ maxEntries: 2, now: () => clock });
  const immediate = immediateAddOf(store);
  assert.ok(immediate !== undefined, "a memory store answers at once");
  assert.equal(immediate("a", clock + 1000), true);
  assert.equal(await store.add("a", clock + 1000), false, "the same entries as add's");
  assert.equal(await store.add("b", clock + 1000), true);
  assert.equal(immediate("b", clock + 1000), false);
  assert.throws(() => immediate("c", clock + 1000), ReplayStoreFullError, "full: thrown where add rejects");
  assert.equal(immediateAddOf({ add: store.add }), immediate, "by its add, whatever object holds it");

  const others: ReplayStore[] = [
    { add: async () => true },
    { add: (key, expiresAtMs) => store.add(key, expiresAtMs) }, // a wrapper may wait on something else
  ];
  for (const other of others) assert.equal(immediateAddOf(other), undefined);
  const spied = createMemoryReplayStore();
  const original = spied.add;
  spied.add = (key, expiresAtMs) => original(key, expiresAtMs);
  assert.equal(immediateAddOf(spied), undefined, "a memory store whose add was replaced is not taken for one");
});
