// Zero configuration: `connectauth dev` issues tokens (token mint), a server trusts it with the options
// `dev` prints, `token decode` reads the tokens and `doctor` passes a call with one and explains a
// denial. Values as people type them (`--ttl -60`), and the lifetime servers refuse by default.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createJwtAuthenticator } from "@connectauth/server";
import { type DevServer, startDevServer } from "@connectauth/node/dev";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { closedPort, doctorJson, runCli, startCli } from "../support/run-cli.js";

const Greet = "example.v1.GreeterService/Greet";

let dev: DevServer;
let server: ExampleServer;
before(async () => {
  dev = await startDevServer();
  server = await startExampleServer({
    auth: {
      kind: "external",
      issuer: dev.url,
      audience: dev.issuer.audience,
      jwksUrl: `${dev.url}/.well-known/jwks.json`,
      algorithms: ["ES256"],
    },
  });
});
after(async () => {
  await server.close();
  await dev.close();
});

const mint = (...args: string[]) => runCli(["token", "mint", "--issuer", dev.url, ...args]);

test("token mint, token decode, and doctor against a server that trusts the dev issuer", async () => {
  const minted = await mint("--sub", "alice", "--scope", "greet", "--ttl", "600");
  assert.equal(minted.code, 0, minted.stderr);
  assert.equal(minted.stderr, "");
  const token = minted.stdout.trim();

  const decoded = await runCli(["token", "decode", token, "--json"]);
  assert.equal(decoded.code, 0);
  const facts = JSON.parse(decoded.stdout) as {
    sub: string;
    iss: string;
    aud: string[];
    scopes: string[];
    expiresInSeconds: number;
  };
  assert.deepEqual([facts.sub, facts.iss, facts.aud, facts.scopes], ["alice", dev.url, ["dev-api"], ["greet"]]);
  assert.ok(facts.expiresInSeconds > 590 && facts.expiresInSeconds <= 600);
  const readable = await runCli(["token", "decode", token]);
  assert.match(readable.stdout, /sub\s+alice/);

  assert.equal((await doctorJson([server.url, Greet, "--token", token])).diagnosis.verdict.id, "ok");
  const admin = await doctorJson([server.url, "example.v1.GreeterService/Admin", "--token", token]);
  assert.equal(admin.diagnosis.verdict.id, "insufficient_scope");
  assert.deepEqual(admin.diagnosis.call?.missingScopes, ["admin"]);
});

test("values that start with a dash are values: --ttl -60, --sub -bob, as with --ttl=-60", async () => {
  for (const args of [
    ["--ttl", "-60", "--sub", "-bob"],
    ["--ttl=-60", "--sub=-bob"],
  ]) {
    const minted = await mint(...args, "--scope", "greet");
    assert.equal(minted.code, 0, minted.stderr);
    const facts = JSON.parse((await runCli(["token", "decode", minted.stdout.trim(), "--json"])).stdout) as {
      sub: string;
      expiresInSeconds: number;
    };
    assert.equal(facts.sub, "-bob");
    assert.ok(facts.expiresInSeconds <= -59 && facts.expiresInSeconds > -70, String(facts.expiresInSeconds));
    const { diagnosis } = await doctorJson([server.url, Greet, "--token", minted.stdout.trim()]);
    assert.equal(diagnosis.verdict.id, "token_expired");
  }
});

test("token mint warns above the servers' default lifetime cap, and doctor names the option that raises it", async () => {
  const atCap = await mint("--sub", "alice", "--scope", "greet", "--ttl", "86400");
  assert.equal(atCap.code, 0);
  assert.equal(atCap.stderr, "", "no warning at the cap");
  assert.equal((await doctorJson([server.url, Greet, "--token", atCap.stdout.trim()])).diagnosis.verdict.id, "ok");

  const over = await mint("--sub", "alice", "--scope", "greet", "--ttl", "86401");
  assert.equal(over.code, 0, "a warning, not a refusal");
  assert.match(
    over.stderr,
    /warning: a lifetime of 24 h \(86401 s\) is longer than connectauth servers accept by default \(86400 s\)/,
  );
  assert.match(over.stderr, /createJwtAuthenticator\(\{ maxLifetimeSeconds: 86401 \}\)/);
  const { diagnosis } = await doctorJson([server.url, Greet, "--token", over.stdout.trim()]);
  assert.equal(diagnosis.verdict.id, "invalid_token");
  assert.equal(diagnosis.call?.metadata["detail"], "lifetime");
  assert.match(diagnosis.verdict.summary, /valid for longer than the server accepts \(24 h from iat to exp\)/);
  assert.match(diagnosis.verdict.fix, /createJwtAuthenticator\(\{ maxLifetimeSeconds: 86401 \}\)/);
  assert.doesNotMatch(diagnosis.verdict.fix, /unaltered/);
});

test("token mint: usage errors name the option; without a running issuer it says how to start one", async () => {
  const result = await runCli(["token", "mint", "--issuer", `http://127.0.0.1:${await closedPort()}`, "--sub", "alice"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /start one with connectauth dev, or name yours with --issuer URL/);
  const noSub = await mint();
  assert.equal(noSub.code, 2);
  assert.match(noSub.stderr, /--sub is required/);
  const badTtl = await mint("--sub", "alice", "--ttl", "1h");
  assert.equal(badTtl.code, 2);
  assert.match(badTtl.stderr, /--ttl must be a whole number of seconds/);
  assert.equal((await runCli(["token", "decode", "not-a-jwt"])).code, 1);
});

/** The `createJwtAuthenticator({…})` that `connectauth dev` printed, evaluated as pasted into a server. */
function pastedOptions(stdout: string) {
  const snippet = /^ {2}createJwtAuthenticator\((\{[\s\S]*?\n {2}\})\)$/m.exec(stdout)?.[1];
  assert.ok(snippet !== undefined, stdout);
  return new Function("URL", `return (${snippet});`)(URL) as Parameters<typeof createJwtAuthenticator>[0];
}

test("connectauth dev: the server options it prints accept its tokens, and it knows no monorepo", async () => {
  const running = startCli(["dev", "--port", "0", "--audience", "my-api", "--scope", "greet"]);
  let trusting: ExampleServer | undefined;
  try {
    const stdout = await running.waitFor(/Ctrl-C stops it/);
    const url = /^development issuer: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)![1]!;
    assert.doesNotMatch(stdout, /npm run|greeter/);
    assert.match(stdout, /^ {13}with a DPoP proof header: a DPoP-bound token \(token_type DPoP, cnf\.jkt of the proof's key\)$/m);
    assert.match(stdout, /^ {4}\/\/ dpop: "required", \/\/ or "allowed"/m);
    assert.match(stdout, /--jkt <your key's thumbprint> on token mint, --dpop-key <your private JWK file> on doctor/);
    const options = pastedOptions(stdout);
    assert.deepEqual(options.remote, { allowInsecureLoopback: true });
    assert.throws(
      () => createJwtAuthenticator({ ...options, remote: undefined }),
      (e: unknown) => e instanceof TypeError && /set remote: \{ allowInsecureLoopback: true \}/.test(e.message),
      "the refusal without it names the option that fixes it",
    );
    const authenticator = createJwtAuthenticator(options);
    trusting = await startExampleServer({ auth: { kind: "authenticators", authenticators: () => [authenticator] } });

    // The next steps it printed, run as printed.
    const mintLine = /^ {2}TOKEN=\$\(connectauth (token mint .*)\)$/m.exec(stdout)![1]!;
    const mintArgs = [...mintLine.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    assert.deepEqual(mintArgs, ["token", "mint", "--issuer", url, "--sub", "alice", "--scope", "greet"]);
    const minted = await runCli(mintArgs);
    assert.equal(minted.code, 0, minted.stderr);
    assert.match(stdout, /^ {2}connectauth doctor <your server's URL> <package\.Service\/Method> --token "\$TOKEN"$/m);
    const { diagnosis } = await doctorJson([trusting.url, Greet, "--token", minted.stdout.trim()]);
    assert.equal(diagnosis.verdict.id, "ok", diagnosis.verdict.summary);
  } finally {
    await trusting?.close();
    const stopped = await running.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

test("connectauth dev: a neutral default audience; refusals name the option", async () => {
  const running = startCli(["dev", "--port", "0"]);
  try {
    const stdout = await running.waitFor(/Ctrl-C stops it/);
    assert.match(stdout, /^ {2}audience {3}dev-api$/m);
    assert.equal(pastedOptions(stdout).audience, "dev-api");
    assert.match(stdout, /--scope "<the scopes of your method>"/);
  } finally {
    assert.equal((await running.stop()).code, 0);
  }
  const port = await runCli(["dev", "--port", "70000"]);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port must be a port number from 0 to 65535/);
  const ttl = await runCli(["dev", "--ttl", "-5"]);
  assert.equal(ttl.code, 2);
  assert.match(ttl.stderr, /--ttl must be a positive whole number of seconds, not "-5"/);
  const busy = await runCli(["dev", "--port", new URL(dev.url).port]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /is in use: pick another with --port N/);
});
