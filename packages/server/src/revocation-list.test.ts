import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type RevocationSubject,
  createMemoryRevocationList,
  normalizeRevocation,
  revocationDigest,
  revocationEndMs,
} from "./revocation-list.js";

const issuer = "https://issuer.example.com/";
const other = "https://other.example.com/";
const t0 = 1_700_000_000_000; // ms
const s0 = t0 / 1000; // s

const token = (extra: Partial<RevocationSubject> = {}): RevocationSubject => ({ issuer, digest: "d-none", ...extra });

test("a jti revocation covers that jti of that issuer only, until its expiresAt plus the clock tolerance", async () => {
  let clock = t0;
  const list = createMemoryRevocationList({ now: () => clock, clockToleranceSeconds: 30 });
  await list.revoke({ issuer, jti: "j1", expiresAt: s0 + 100 });
  assert.equal(list.check(token({ jti: "j1" })), "revoked");
  assert.equal(list.check(token({ jti: "j2" })), "clear");
  assert.equal(list.check({ issuer: other, digest: "d-none", jti: "j1" }), "clear", "the same jti of another issuer");
  assert.equal(list.check(token()), "clear", "a token without jti");
  clock = t0 + 129_999;
  assert.equal(list.check(token({ jti: "j1" })), "revoked", "within exp + tolerance");
  clock = t0 + 130_000;
  assert.equal(list.check(token({ jti: "j1" })), "clear", "dropped once exp + tolerance has passed");
  assert.deepEqual(await list.list(), []);
});

test("a digest revocation covers the token with that digest, whether it has a jti or not", async () => {
  const list = createMemoryRevocationList({ now: () => t0 });
  await list.revoke({ issuer, digest: "abc", expiresAt: s0 + 60 });
  assert.equal(list.check(token({ digest: "abc" })), "revoked");
  assert.equal(list.check(token({ digest: "abc", jti: "j9" })), "revoked");
  assert.equal(list.check(token({ digest: "abd" })), "clear");
  assert.equal(list.check({ issuer: other, digest: "abc" }), "clear");
});

test("a subject revocation covers its tokens with iat < before; iat == before and later are clear; no iat is covered", async () => {
  const list = createMemoryRevocationList({ now: () => t0 });
  await list.revoke({ issuer, subject: "alice", before: s0 });
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 - 1 })), "revoked");
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 - 0.001 })), "revoked");
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 })), "clear", "iat == before is not before");
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 + 1 })), "clear", "a token issued after: logged in again");
  assert.equal(list.check(token({ subject: "alice" })), "revoked", "no iat counts as -Infinity");
  assert.equal(
    list.check(token({ subject: "alice", issuedAt: Number.NaN })),
    "revoked",
    "an iat that is no number is covered too",
  );
  assert.equal(list.check(token({ subject: "bob", issuedAt: s0 - 1 })), "clear");
  assert.equal(list.check(token({ clientId: "alice", issuedAt: s0 - 1 })), "clear", "a client_id is not a subject");
  assert.equal(list.check({ issuer: other, digest: "x", subject: "alice", issuedAt: s0 - 1 }), "clear");
});

test("a clientId revocation covers that client's tokens with iat < before, whatever their subject", async () => {
  const list = createMemoryRevocationList({ now: () => t0 });
  await list.revoke({ issuer, clientId: "app", before: s0 });
  assert.equal(list.check(token({ clientId: "app", subject: "alice", issuedAt: s0 - 10 })), "revoked");
  assert.equal(list.check(token({ clientId: "app", issuedAt: s0 })), "clear");
  assert.equal(list.check(token({ clientId: "app" })), "revoked");
  assert.equal(list.check(token({ clientId: "other", issuedAt: s0 - 10 })), "clear");
  assert.equal(list.check(token({ subject: "app", issuedAt: s0 - 10 })), "clear");
});

test("the latest before of a subject wins; an earlier one does not narrow it", async () => {
  const list = createMemoryRevocationList({ now: () => t0 });
  await list.revoke({ issuer, subject: "alice", before: s0 });
  await list.revoke({ issuer, subject: "alice", before: s0 - 100 });
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 - 50 })), "revoked");
  await list.revoke({ issuer, subject: "alice", before: s0 + 100 });
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 + 50 })), "revoked");
  assert.deepEqual(await list.list(), [{ issuer, subject: "alice", before: s0 + 100 }]);
});

test("subject and client entries are kept until before + maxTokenLifetimeSeconds + tolerance, then dropped", async () => {
  let clock = t0;
  const list = createMemoryRevocationList({ now: () => clock, maxTokenLifetimeSeconds: 3600, clockToleranceSeconds: 0 });
  await list.revoke({ issuer, subject: "alice", before: s0 });
  await list.revoke({ issuer, clientId: "app", before: s0 + 10 });
  clock = t0 + 3_600_000 - 1;
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 - 1 })), "revoked");
  clock = t0 + 3_600_000;
  assert.equal(list.check(token({ subject: "alice", issuedAt: s0 - 1 })), "clear", "every token it covered has expired");
  assert.equal(list.check(token({ clientId: "app", issuedAt: s0 - 1 })), "revoked");
  assert.deepEqual(await list.list(), [{ issuer, clientId: "app", before: s0 + 10 }]);
  clock = t0 + 3_610_000;
  assert.deepEqual(await list.list(), []);
});

test("a jti or digest without expiresAt is kept maxTokenLifetimeSeconds from its revocation; a past one is not stored", async () => {
  let clock = t0;
  const list = createMemoryRevocationList({ now: () => clock, maxTokenLifetimeSeconds: 600, clockToleranceSeconds: 0 });
  await list.revoke({ issuer, jti: "j1" });
  await list.revoke({ issuer, digest: "d1", expiresAt: s0 - 1 });
  assert.deepEqual(await list.list(), [{ issuer, jti: "j1", expiresAt: s0 + 600 }], "the filled-in expiresAt is listed");
  assert.equal(list.check(token({ digest: "d1" })), "clear", "an expired token needs no entry");
  clock = t0 + 600_000;
  assert.equal(list.check(token({ jti: "j1" })), "clear");
});

test("a later revocation of the same jti with a later expiresAt extends it; the earlier expiry does not drop it", async () => {
  let clock = t0;
  const list = createMemoryRevocationList({ now: () => clock, clockToleranceSeconds: 0 });
  await list.revoke({ issuer, jti: "j1", expiresAt: s0 + 10 });
  await list.revoke({ issuer, jti: "j1", expiresAt: s0 + 20 });
  clock = t0 + 15_000;
  assert.equal(list.check(token({ jti: "j1" })), "revoked");
  clock = t0 + 20_000;
  assert.equal(list.check(token({ jti: "j1" })), "clear");
});

test("list returns every live entry of every kind and issuer, in a form revoke takes back", async () => {
  const list = createMemoryRevocationList({ now: () => t0 });
  const all = [
    { issuer, jti: "j1", expiresAt: s0 + 1 },
    { issuer, digest: "d1", expiresAt: s0 + 2 },
    { issuer, subject: "alice", before: s0 },
    { issuer: other, clientId: "app", before: s0 },
  ];
  for (const r of all) await list.revoke(r);
  const listed = await list.list();
  assert.deepEqual(new Set(listed.map((r) => JSON.stringify(r))), new Set(all.map((r) => JSON.stringify(r))));
  const copy = createMemoryRevocationList({ now: () => t0 });
  for (const r of listed) await copy.revoke(r);
  assert.equal(copy.check({ issuer: other, digest: "x", clientId: "app", issuedAt: s0 - 1 }), "revoked");
  assert.deepEqual(list.status(), { ready: true });
});

test("a misused revocation rejects with a TypeError naming the field, never its value", async () => {
  const list = createMemoryRevocationList();
  const cases: [unknown, RegExp][] = [
    [{ jti: "secret-1" }, /issuer must be a non-empty string/],
    [{ issuer: "", jti: "secret-1" }, /issuer/],
    [{ issuer }, /exactly one of/],
    [{ issuer, jti: "secret-1", digest: "secret-2" }, /exactly one of/],
    [{ issuer, jti: "" }, /jti must be a non-empty string/],
    [{ issuer, subject: "secret-1" }, /before must be a finite number/],
    [{ issuer, clientId: "secret-1", before: Number.POSITIVE_INFINITY }, /before must be a finite number/],
    [{ issuer, jti: "secret-1", expiresAt: "soon" }, /expiresAt must be a finite number/],
    [{ issuer, jti: "secret-1", before: 1 }, /before goes with subject or clientId/],
    [{ issuer, subject: "secret-1", before: 1, expiresAt: 2 }, /expiresAt goes with jti or digest/],
  ];
  for (const [revocation, message] of cases) {
    await assert.rejects(list.revoke(revocation as never), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  }
  assert.deepEqual(await list.list(), []);
});

test("options are checked at construction", () => {
  assert.throws(() => createMemoryRevocationList({ maxTokenLifetimeSeconds: -1 }), TypeError);
  assert.throws(() => createMemoryRevocationList({ maxTokenLifetimeSeconds: Number.NaN }), TypeError);
  assert.throws(() => createMemoryRevocationList({ clockToleranceSeconds: Number.POSITIVE_INFINITY }), TypeError);
});

test("normalizeRevocation fills expiresAt and orders the keys, so every instance writes the same JSON", () => {
  const a = normalizeRevocation({ expiresAt: 5, jti: "j", issuer } as never, t0, 600);
  assert.equal(JSON.stringify(a), JSON.stringify({ issuer, jti: "j", expiresAt: 5 }));
  assert.deepEqual(normalizeRevocation({ issuer, digest: "d" }, t0, 600), { issuer, digest: "d", expiresAt: s0 + 600 });
  assert.equal(revocationEndMs({ issuer, subject: "s", before: 100 }, 600, 60), 760_000);
  assert.equal(revocationEndMs({ issuer, jti: "j", expiresAt: 100 }, 600, 60), 160_000);
});

test("revocationDigest is base64url SHA-256 of header.payload: the same under any signature", () => {
  const signingInput = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";
  const expected = createHash("sha256").update(signingInput).digest("base64url");
  assert.equal(revocationDigest(`${signingInput}.c2lnMQ`), expected);
  assert.equal(revocationDigest(`${signingInput}.c2lnMg`), expected, "another signature, the same digest");
  assert.notEqual(revocationDigest("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnMQ"), expected);
  for (const bad of ["abc", "a.b", "a.b.c.d.e", "a.bé.c", 42]) {
    assert.throws(() => revocationDigest(bad as string), TypeError);
  }
});

test("100,000 entries: every check is a few Map reads (a check of each kind, and of a clear token)", async () => {
  const list = createMemoryRevocationList({ now: () => t0 });
  for (let i = 0; i < 25_000; i++) {
    await list.revoke({ issuer, jti: `j${i}`, expiresAt: s0 + 3600 });
    await list.revoke({ issuer, digest: `d${i}`, expiresAt: s0 + 3600 });
    await list.revoke({ issuer, subject: `s${i}`, before: s0 });
    await list.revoke({ issuer, clientId: `c${i}`, before: s0 });
  }
  assert.equal((await list.list()).length, 100_000);
  assert.equal(list.check(token({ jti: "j24999" })), "revoked");
  assert.equal(list.check(token({ digest: "d12345" })), "revoked");
  assert.equal(list.check(token({ subject: "s0", issuedAt: s0 - 1 })), "revoked");
  assert.equal(list.check(token({ clientId: "c77", issuedAt: s0 - 1 })), "revoked");
  assert.equal(list.check(token({ jti: "j25000", digest: "d25000", subject: "s25000", clientId: "c25000" })), "clear");
});

test("entries with expiries in any order are dropped exactly when theirs has passed, never before", async () => {
  let clock = t0;
  const list = createMemoryRevocationList({ now: () => clock, clockToleranceSeconds: 0 });
  let seed = 7;
  const random = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const ends = Array.from({ length: 500 }, () => Math.floor(random() * 1000));
  for (const [i, end] of ends.entries()) await list.revoke({ issuer, jti: `j${i}`, expiresAt: s0 + 1 + end });
  for (let step = 0; step <= 1001; step += 13) {
    clock = t0 + step * 1000;
    for (const [i, end] of ends.entries()) {
      assert.equal(list.check(token({ jti: `j${i}` })), step < 1 + end ? "revoked" : "clear", `j${i} at ${step}`);
    }
    assert.equal((await list.list()).length, ends.filter((end) => step < 1 + end).length);
  }
});
