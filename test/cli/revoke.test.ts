// `connectauth revoke` against a real redis-server (127.0.0.1, a free port): each kind of revocation
// stored (exit 0 only then) and seen by a server's Redis revocation list, --list in text and JSON,
// usage errors (exit 2, a bad URL among them), and exit 1 with a clear message when Redis cannot be
// reached or does not answer, never naming the URL's password.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedisRevocationList } from "@connectauth/node/redis";
import { type Revocation, revocationDigest } from "@connectauth/server";
import { connectRedis, waitFor } from "../support/redis-clients.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { closedPort, runCli } from "../support/run-cli.js";
import { createTestSigner } from "../support/tokens.js";

const issuer = "https://issuer.test/";
let server: RedisServer;
let dir: string;
let prefixes = 0;
const newPrefix = () => `test:cli:${++prefixes}:`;
const nowS = () => Date.now() / 1000;

before(async () => {
  server = await startRedisServer();
  dir = mkdtempSync(join(tmpdir(), "connectauth-revoke-"));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const revoke = (prefix: string, ...args: string[]) => runCli(["revoke", "--redis", server.url, "--prefix", prefix, ...args]);
const listed = async (prefix: string): Promise<Revocation[]> => {
  const r = await revoke(prefix, "--list", "--json");
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { revocations: Revocation[] }).revocations;
};

test("each kind is stored in Redis before the command exits 0, and a server's list refuses what it covers", async () => {
  const prefix = newPrefix();
  const connection = await connectRedis("node-redis", server.url);
  const fleet = createRedisRevocationList({ redis: connection.redis, keyPrefix: prefix, heartbeatMs: 100 });
  try {
    await fleet.caughtUp();
    const jti = await revoke(prefix, "--issuer", issuer, "--jti", "j-1", "--expires", "2100-01-01T00:00:00Z");
    assert.equal(jti.code, 0, jti.stderr);
    assert.equal(jti.stdout, `revoked jti "j-1" of ${issuer} until 2100-01-01T00:00:00.000Z\n`);
    assert.equal(await server.command("ZCARD", `${prefix}entries`), ":1", "in Redis when the command returned");
    // An hour ago, written with a +01:00 offset.
    const aliceBefore = Math.floor(nowS()) - 3600;
    const local = new Date((aliceBefore + 3600) * 1000).toISOString().slice(0, 19);
    const subject = await revoke(prefix, "--issuer", issuer, "--subject", "alice", "--before", `${local}+01:00`);
    assert.equal(subject.code, 0, subject.stderr);
    const before = Math.floor(nowS());
    const client = await revoke(prefix, "--issuer", issuer, "--client", "app", "--before", String(before), "--json");
    assert.equal(client.code, 0, client.stderr);
    assert.deepEqual(JSON.parse(client.stdout), {
      revoked: { issuer, clientId: "app", before },
      redis: server.url,
    });
    const defaultBefore = await revoke(prefix, "--issuer", issuer, "--subject", "bob", "--json");
    const bobBefore = (JSON.parse(defaultBefore.stdout) as { revoked: { before: number } }).revoked.before;
    assert.ok(Math.abs(bobBefore - nowS()) < 5, "--before defaults to now");
    assert.equal(await server.command("ZCARD", `${prefix}entries`), ":4");

    // The server's list has them within a second (pub/sub).
    const token = { issuer, digest: "d" };
    await waitFor(() => fleet.check({ ...token, jti: "j-1" }) === "revoked", 1000, "jti");
    await waitFor(() => fleet.check({ ...token, clientId: "app", issuedAt: before - 1 }) === "revoked", 1000, "client");
    assert.equal(fleet.check({ ...token, clientId: "app", issuedAt: before }), "clear", "issued at T: not before it");
    assert.equal(fleet.check({ ...token, subject: "alice", issuedAt: aliceBefore - 1 }), "revoked");
    assert.equal(fleet.check({ ...token, subject: "alice", issuedAt: aliceBefore }), "clear");

    assert.deepEqual(
      (await listed(prefix)).map((r) => Object.keys(r).join(",")),
      ["issuer,clientId,before", "issuer,jti,expiresAt", "issuer,subject,before", "issuer,subject,before"],
    );
    const text = await revoke(prefix, "--list");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^client "app" of https:\/\/issuer\.test\/: tokens issued before /m);
    const aliceLine = `subject "alice" of ${issuer}: tokens issued before ${new Date(aliceBefore * 1000).toISOString()}`;
    assert.ok(text.stdout.split("\n").includes(aliceLine), text.stdout);
    assert.match(text.stdout, /^4 revocations in redis:\/\/127\.0\.0\.1:\d+$/m);
  } finally {
    await fleet.close();
    connection.close();
  }
});

test("--token-file: by its jti until its exp, or by its digest without a jti; the issuer from its iss", async () => {
  const prefix = newPrefix();
  const signer = await createTestSigner("k1");
  const exp = Math.floor(nowS()) + 600;
  const withJti = await signer.sign({ iss: issuer, sub: "alice", jti: "file-jti", exp });
  const withoutJti = await signer.sign({ iss: issuer, sub: "alice", exp });
  const files = [join(dir, "a.jwt"), join(dir, "b.jwt")];
  writeFileSync(files[0]!, `${withJti}\n`);
  writeFileSync(files[1]!, withoutJti);
  for (const file of files) {
    const r = await revoke(prefix, "--token-file", file);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(withJti) && !r.stdout.includes(withoutJti), "the token is never printed");
  }
  const digest = revocationDigest(withoutJti);
  assert.deepEqual(
    (await listed(prefix)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    [
      { issuer, digest, expiresAt: exp },
      { issuer, jti: "file-jti", expiresAt: exp },
    ],
  );
  const mismatch = await revoke(prefix, "--token-file", files[0]!, "--issuer", "https://other.test/");
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /another issuer than --issuer/);
  writeFileSync(join(dir, "junk"), "not a token");
  const junk = await revoke(prefix, "--token-file", join(dir, "junk"));
  assert.deepEqual([junk.code, /does not hold a JWT/.test(junk.stderr)], [2, true]);
});

test("usage errors exit 2 and say what is wrong; nothing is written", async () => {
  const prefix = newPrefix();
  const cases: [string[], RegExp][] = [
    [["revoke", "--issuer", issuer, "--jti", "j"], /--redis is required/],
    [
      ["revoke", "--redis", "http://127.0.0.1:6379", "--issuer", issuer, "--jti", "j"],
      /redis:\/\/ or rediss:\/\/ URL, not http:/,
    ],
    [["revoke", "--redis", "not a url", "--issuer", issuer, "--jti", "j"], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [["revoke", "--redis", server.url, "--issuer", issuer], /exactly one of --jti, --subject, --client and --token-file/],
    [["revoke", "--redis", server.url, "--issuer", issuer, "--jti", "j", "--subject", "s"], /exactly one of/],
    [["revoke", "--redis", server.url, "--jti", "j"], /--issuer is required/],
    [
      ["revoke", "--redis", server.url, "--issuer", issuer, "--jti", "j", "--before", "0"],
      /--before goes with --subject or --client/,
    ],
    [["revoke", "--redis", server.url, "--issuer", issuer, "--subject", "s", "--expires", "0"], /--expires goes with --jti/],
    [
      ["revoke", "--redis", server.url, "--issuer", issuer, "--subject", "s", "--before", "yesterday"],
      /--before must be an RFC 3339/,
    ],
    [
      ["revoke", "--redis", server.url, "--issuer", issuer, "--subject", "s", "--before", "2026-01-01"],
      /--before must be an RFC 3339/,
    ],
    [["revoke", "--redis", server.url, "--issuer", issuer, "--jti", ""], /--jti must not be empty/],
    [["revoke", "--redis", server.url, "--list", "--jti", "j"], /--list takes no revocation/],
    [["revoke", "--redis", server.url, "--issuer", issuer, "--jti", "j", "--timeout", "0"], /--timeout must be/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli([...args, "--prefix", prefix]);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message, args.join(" "));
    assert.match(r.stderr, /usage: connectauth revoke/);
  }
  assert.equal(await server.command("EXISTS", `${prefix}entries`), ":0");
  // A revocation that covers only expired tokens is not stored, and the command says so.
  const stale = await revoke(prefix, "--issuer", issuer, "--subject", "s", "--before", "0");
  assert.deepEqual([stale.code, stale.stdout], [0, ""]);
  assert.match(stale.stderr, /nothing to store: every token it covers has expired/);
  assert.equal(await server.command("EXISTS", `${prefix}entries`), ":0");
  // $CONNECTAUTH_REDIS_URL stands for --redis.
  const fromEnv = await runCli(["revoke", "--prefix", prefix, "--issuer", issuer, "--jti", "env"], {
    env: { CONNECTAUTH_REDIS_URL: server.url },
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
});

test("a Redis that cannot be reached, or does not answer, exits 1 without naming the password", async () => {
  const url = `redis://user:hunter2-secret@127.0.0.1:${await closedPort()}`;
  for (const args of [["--issuer", issuer, "--jti", "j"], ["--list"]]) {
    const r = await runCli(["revoke", "--redis", url, "--timeout", "1000", ...args]);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    assert.ok(!`${r.stdout}${r.stderr}`.includes("hunter2"), "no password in the output");
  }
  server.hang();
  try {
    const r = await runCli(["revoke", "--redis", server.url, "--timeout", "300", "--issuer", issuer, "--jti", "hung"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach Redis|did not answer in time|not known to be stored/);
  } finally {
    server.resume();
  }
});
