// The example server as a fleet on Redis, started as users start it (`npm run serve -- --redis URL`:
// serve.ts in its own process) on a real redis-server: instance B verifies instance A's development
// tokens (A's JWKS), both read one revocation list, and with DPoP one replay store. A token revoked
// through `connectauth revoke` is refused by both within 1 s on Connect, gRPC and gRPC-web; a DPoP
// proof used on one is refused on the other; grpc.health.v1 Check is SERVING on both, with no token.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Interceptor, createClient } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { createDpopProver } from "@connectauth/client/dpop";
import { Health, HealthCheckResponse_ServingStatus } from "@connectauth/server";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { exampleTransport, protocols } from "../../packages/example/src/demo-cases.js";
import { failure } from "../support/failure.js";
import { type Served, npmStart, serve, serveUntilExit, stopAllServed } from "../support/example-serve.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { runCli } from "../support/run-cli.js";

after(stopAllServed);

/** The flags of a second instance that takes the first one's development tokens. */
const followerOf = (leader: Served) => [
  "--issuer",
  leader.url,
  "--audience",
  "greeter",
  "--jwks-url",
  `${leader.url}/.well-known/jwks.json`,
];

/** Resolves with how long `condition` took to hold, polling every 20 ms; fails past `withinMs`. */
async function within(withinMs: number, what: string, condition: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - start;
    if (Date.now() - start > withinMs) assert.fail(`${what} not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const healthOf = (url: string, protocol: (typeof protocols)[number]) =>
  createClient(Health, exampleTransport(url, protocol))
    .check({ service: "" })
    .then((r) => r.status);

let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis?.stop();
});

describe("two example servers with the same --redis", () => {
  let a: Served;
  let b: Served;
  let token: string;

  test("start, say they are a fleet, and their health Check is SERVING with no token", async () => {
    a = await serve(["--redis", redis.url, "--revocation-staleness", "5"], /^a bearer token with scopes .*:\n.+\n/m);
    token = /^a bearer token with scopes .*:\n(.+)$/m.exec(a.output())?.[1] ?? "";
    b = await serve(["--redis", redis.url, ...followerOf(a)], /^fleet: /m);
    for (const s of [a, b]) {
      assert.match(s.output(), new RegExp(`^fleet: revocations shared through Redis at ${redis.url}$`, "m"));
      for (const protocol of protocols) {
        await within(5000, `${protocol} health SERVING on ${s.url}`, async () => {
          return (await healthOf(s.url, protocol)) === HealthCheckResponse_ServingStatus.SERVING;
        });
      }
    }
  });

  test("a token revoked through connectauth revoke is refused by both, on every protocol, within 1 s", async () => {
    const greet = (url: string, protocol: (typeof protocols)[number]) =>
      createClient(GreeterService, exampleTransport(url, protocol, token)).greet({ name: "Ada" });
    for (const s of [a, b]) {
      for (const protocol of protocols) assert.equal((await greet(s.url, protocol)).greeting, "Hello, Ada! (from dev-user)");
    }
    const issuer = String(decodeJwt(token).iss);
    const revoked = await runCli(["revoke", "--redis", redis.url, "--issuer", issuer, "--subject", "dev-user"]);
    assert.equal(revoked.code, 0, revoked.stderr);
    for (const s of [a, b]) {
      for (const protocol of protocols) {
        await within(1000, `${protocol} refusal on ${s.url}`, async () => {
          try {
            await greet(s.url, protocol);
            return false;
          } catch {
            return true;
          }
        });
        const refused = await failure(greet(s.url, protocol));
        assert.deepEqual([refused.failure?.reason, refused.failure?.metadata["detail"]], ["INVALID_TOKEN", "revoked"]);
      }
    }
    // A printed the token once at start (for you to call it with); neither says more of it after.
    const payload = token.split(".")[1] ?? "?";
    assert.equal(a.output().split(payload).length, 2, "A printed its token once, at start");
    assert.ok(!b.output().includes(payload), "no token in B's output");
  });

  test("stop on SIGTERM (closing their Redis connections)", async () => {
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
  });
});

describe("two example servers with the same --redis and --dpop required", () => {
  const origin = "http://greeter.fleet.test";
  let a: Served;
  let b: Served;

  test("start with one public origin", async () => {
    const dpop = ["--redis", redis.url, "--dpop", "required", "--public-origin", origin];
    a = await serve(dpop, /^tokens bound to your key: /m);
    b = await serve([...dpop, ...followerOf(a)], /^fleet: /m);
    assert.match(b.output(), /^fleet: revocations and DPoP proofs shared through Redis at /m);
  });

  for (const protocol of protocols) {
    test(`${protocol}: a proof used on one instance is refused on the other as jti_replay`, async () => {
      const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const prover = createDpopProver({ keyPair });
      const response = await fetch(`${a.url}/demo/tokens?jkt=${await prover.jkt()}`);
      const bound = ((await response.json()) as { dpop: string }).dpop;
      const proof = await prover.proof({
        method: "POST",
        url: `${origin}/${GreeterService.typeName}/Greet`,
        accessToken: bound,
      });
      // The same token and proof on every request: what an attacker who copied a request would send.
      const replay: Interceptor = (next) => (req) => {
        req.header.set("authorization", `DPoP ${bound}`);
        req.header.set("dpop", proof);
        return next(req);
      };
      const greet = (url: string) =>
        createClient(GreeterService, exampleTransport(url, protocol, undefined, [replay])).greet({ name: "D" });
      assert.equal((await greet(a.url)).greeting, "Hello, D! (from browser-user)");
      const refused = await failure(greet(b.url));
      assert.deepEqual([refused.failure?.reason, refused.failure?.metadata["detail"]], ["INVALID_DPOP_PROOF", "jti_replay"]);
    });
  }

  test("stop on SIGTERM", async () => {
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
  });
});

describe("npm run serve -- --redis: bad values exit 2 naming the flag, never the password", () => {
  for (const [args, message] of [
    [["--redis", "http://user:hunter2-secret@127.0.0.1:6379"], /--redis must be a redis:\/\/ or rediss:\/\/ URL, not http:\/\//],
    [["--redis", "not a url hunter2-secret"], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [["--redis", "redis://:hunter2-secret@127.0.0.1:1", "--revocation-staleness", "soon"], /--revocation-staleness must be/],
    [["--revocation-staleness", "5"], /--revocation-staleness needs --redis URL/],
    [["--public-origin", "http://x.test"], /--public-origin needs --dpop required\|allowed/],
  ] as const) {
    test(args.join(" ").replace(/hunter2-secret/g, "…"), async () => {
      const { code, stdout, stderr } = await serveUntilExit(args);
      const output = stdout + stderr;
      assert.equal(code, 2, output);
      assert.match(output, message);
      assert.ok(!output.includes("hunter2-secret"), "the password is not printed");
    });
  }
});

test("npm start with redis-server on the PATH: B refuses the token revoked on A, on every protocol", async () => {
  const { code, stdout } = await npmStart(process.env);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^fleet on Redis: instances A and B share revocations through redis:\/\/127\.0\.0\.1:\d+$/m);
  for (const protocol of protocols) {
    const row = `^Greet \\(token revoked on instance A, called on B\\) +${protocol} +Unauthenticated \\(16\\) +INVALID_TOKEN \\(revoked\\) +as expected$`;
    assert.match(stdout, new RegExp(row, "m"));
  }
  assert.match(stdout, /^B refused the token revoked on A, on every protocol\.$/m);
});

test("npm start without redis-server: one line on how to install it, and exit 0", async () => {
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const empty = await mkdtemp(`${tmpdir()}/no-redis-`);
  const { code, stdout } = await npmStart({ ...process.env, PATH: empty });
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^All 24 calls ended as the contract says\.$/m);
  assert.match(
    stdout,
    /^fleet on Redis: skipped, no redis-server on the PATH \(install it to see a fleet: apt install redis-server/m,
  );
  assert.doesNotMatch(stdout, /token revoked on instance A/);
});
