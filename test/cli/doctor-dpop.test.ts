// DPoP with the CLI: `connectauth token mint --jkt` binds a token to a key of `connectauth dev`, and
// `connectauth doctor --dpop-key FILE` makes the call with a proof of that key (following one nonce)
// against example servers that require or allow DPoP, on every protocol: a passing call, and each
// refusal explained. Neither the key, nor a proof, nor the token is in anything doctor prints.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { type JWK, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from "jose";
import { type DevServer, devDefaults, startDevServer } from "@connectauth/node/dev";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { doctorJson, runCli } from "../support/run-cli.js";

const Greet = "example.v1.GreeterService/Greet";
const protocols = ["connect", "grpc", "grpc-web"] as const;

interface KeyFile {
  readonly path: string;
  readonly jkt: string;
  readonly jwk: JWK;
}

let dir: string;
let dev: DevServer;
let required: ExampleServer; // DPoP required, with nonces
let allowed: ExampleServer;
let key: KeyFile;
let otherKey: KeyFile;

async function keyFile(name: string, alg: "ES256" | "EdDSA" = "ES256"): Promise<KeyFile> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(jwk));
  return { path, jwk, jkt: await calculateJwkThumbprint(await exportJWK(publicKey)) };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "doctor-dpop-"));
  dev = await startDevServer();
  const auth = {
    kind: "external",
    issuer: dev.url,
    audience: devDefaults.audience,
    jwksUrl: `${dev.url}/.well-known/jwks.json`,
    algorithms: ["ES256"],
  } as const;
  [required, allowed] = await Promise.all([
    startExampleServer({ auth, dpop: { mode: "required", nonce: { secret: randomBytes(32).toString("base64url") } } }),
    startExampleServer({ auth, dpop: "allowed" }),
  ]);
  [key, otherKey] = await Promise.all([keyFile("key.jwk"), keyFile("other.jwk", "EdDSA")]);
});
after(async () => {
  await Promise.all([required.close(), allowed.close()]);
  await dev.close();
  await rm(dir, { recursive: true, force: true });
});

/** `connectauth token mint` from the dev issuer, with `--jkt` when given. */
async function mint(jkt?: string): Promise<string> {
  const minted = await runCli([
    "token",
    "mint",
    "--issuer",
    dev.url,
    "--sub",
    "alice",
    "--scope",
    "greet",
    ...(jkt === undefined ? [] : ["--jkt", jkt]),
  ]);
  assert.equal(minted.code, 0, minted.stderr);
  return minted.stdout.trim();
}

/** Nothing doctor printed holds the token, a JWS (a proof), or the private key. */
function assertNothingSecret(output: string, token: string): void {
  assert.ok(!output.includes(token.split(".")[1]!) && !output.includes(token.split(".")[2]!), "the token");
  assert.doesNotMatch(output, /eyJ[\w-]{16,}/, "a JWS (a proof or a token)");
  for (const k of [key, otherKey]) assert.ok(!output.includes(String(k.jwk.d)), "the private key");
}

test("token mint --jkt binds the token to the key: cnf.jkt, and decode still reads it", async () => {
  const token = await mint(key.jkt);
  assert.deepEqual(decodeJwt(token)["cnf"], { jkt: key.jkt });
  assert.equal(decodeJwt(await mint())["cnf"], undefined);
  const bad = await runCli(["token", "mint", "--issuer", dev.url, "--sub", "alice", "--jkt", "not-a-thumbprint"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--jkt must be the SHA-256 JWK thumbprint of the DPoP key \(43 base64url characters, RFC 7638\)/);
});

for (const protocol of protocols) {
  test(`${protocol}: doctor --dpop-key passes a bound call, following the server's nonce`, async () => {
    const token = await mint(key.jkt);
    const args = [required.url, Greet, "--token", token, "--dpop-key", key.path, "--protocol", protocol];
    const { code, stdout, diagnosis } = await doctorJson(args);
    assert.equal(code, 0, diagnosis.verdict.summary);
    assert.equal(diagnosis.verdict.id, "ok");
    assert.match(
      diagnosis.verdict.summary,
      new RegExp(`with DPoP \\(a proof signed by the key ${key.jkt}, with the server's nonce\\)`),
    );
    assert.deepEqual(diagnosis.dpop, { keyJkt: key.jkt, tokenJkt: key.jkt, nonceRetried: true });
    assert.deepEqual(diagnosis.notes, []);
    assertNothingSecret(stdout, token);
    // The readable report: its dpop section.
    const readable = await runCli(["doctor", ...args]);
    assert.equal(readable.code, 0);
    assert.match(
      readable.stdout,
      new RegExp(
        `^dpop\\n {2}key {8}${key.jkt} \\(--dpop-key\\)\\n {2}token {6}bound to ${key.jkt}\\n {2}✓ the key is the token's\\n {2}nonce`,
        "m",
      ),
    );
    assertNothingSecret(readable.stdout + readable.stderr, token);
  });
}

test("doctor --dpop-key explains the refusals: another key (jkt), a token bound to none, no proof", async () => {
  const bound = await mint(key.jkt);
  const plain = await mint();
  for (const protocol of protocols) {
    const wrong = await doctorJson([required.url, Greet, "--token", bound, "--dpop-key", otherKey.path, "--protocol", protocol]);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.diagnosis.verdict.id, "invalid_dpop_proof");
    assert.deepEqual([wrong.diagnosis.call?.reason, wrong.diagnosis.call?.metadata["detail"]], ["INVALID_DPOP_PROOF", "jkt"]);
    assert.match(
      wrong.diagnosis.verdict.summary,
      new RegExp(`bound to the key ${key.jkt} \\(cnf\\.jkt\\), and the proof was signed by ${otherKey.jkt}`),
    );
    assert.match(wrong.diagnosis.notes.join(), /not to the --dpop-key/);
    assert.equal(wrong.diagnosis.dpop.nonceRetried, true, "the nonce came first");
    assertNothingSecret(wrong.stdout, bound);

    const unbound = await doctorJson([required.url, Greet, "--token", plain, "--dpop-key", key.path, "--protocol", protocol]);
    assert.equal(unbound.diagnosis.call?.metadata["detail"], "jkt");
    assert.match(unbound.diagnosis.verdict.summary, /the token is bound to no key \(no cnf\.jkt\)/);
    assert.match(unbound.diagnosis.verdict.fix, new RegExp(`connectauth token mint --jkt ${key.jkt}\\.$`));

    const asBearer = await doctorJson([required.url, Greet, "--token", bound, "--protocol", protocol]);
    assert.equal(asBearer.diagnosis.verdict.id, "invalid_token");
    assert.equal(asBearer.diagnosis.call?.metadata["detail"], "dpop_required");
    assert.match(asBearer.diagnosis.call?.challenge ?? "", /^DPoP /);
    assert.match(asBearer.diagnosis.verdict.fix, /--dpop-key <private JWK file>/);

    const stolen = await doctorJson([allowed.url, Greet, "--token", bound, "--protocol", protocol]);
    assert.equal(stolen.diagnosis.call?.metadata["detail"], "dpop_bound");
    assert.match(
      stolen.diagnosis.verdict.summary,
      new RegExp(`bound to a DPoP key \\(cnf\\.jkt ${key.jkt}\\) and came as Bearer`),
    );
    assert.match(stolen.diagnosis.notes.join(), /sent as Bearer: give that key with --dpop-key FILE/);

    const withKey = await doctorJson([allowed.url, Greet, "--token", bound, "--dpop-key", key.path, "--protocol", protocol]);
    assert.equal(withKey.diagnosis.verdict.id, "ok");
    assert.equal(withKey.diagnosis.dpop.nonceRetried, false, "no nonce asked");
  }
});

test("doctor --dpop-key: usage errors (exit 2) that never quote the file", async () => {
  const token = await mint(key.jkt);
  const noToken = await runCli(["doctor", required.url, Greet, "--dpop-key", key.path]);
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /--dpop-key needs a token to prove: give --token or --token-file/);
  const missing = await runCli(["doctor", required.url, Greet, "--token", token, "--dpop-key", join(dir, "nope.jwk")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.jwk \(ENOENT\)/);
  const files: [string, string, RegExp][] = [
    ["garbage.jwk", "not json at all: secret-looking-text", /the file is not JSON/],
    ["public.jwk", JSON.stringify({ ...key.jwk, d: undefined }), /not a private JWK/],
    [
      "hmac.jwk",
      JSON.stringify({ kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", d: "x" }),
      /not an asymmetric signing key/,
    ],
    ["broken.jwk", JSON.stringify({ ...key.jwk, d: "AAAA" }), /the key cannot be used for ES256/],
  ];
  for (const [name, text, message] of files) {
    const path = join(dir, name);
    await writeFile(path, text);
    const r = await runCli(["doctor", required.url, Greet, "--token", token, "--dpop-key", path]);
    assert.equal(r.code, 2, name);
    assert.match(r.stderr, message, name);
    assert.ok(!r.stderr.includes("secret-looking-text") && !r.stderr.includes(String(key.jwk.d)), name);
  }
});
