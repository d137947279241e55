// DPoP in the example server as users start it (`npm run serve -- --dpop …`: serve.ts in its own process,
// its "listening on" line), called by the real client (@connectauth/client/dpop: a non-extractable P-256
// key) over Connect, gRPC and gRPC-web: bound calls pass, bearer tokens are refused as the mode says, two
// servers given the same --dpop-nonce-secret accept each other's nonce (one with a secret of its own does
// not), tokens come from the development issuer's DPoP token request, and no token, proof or secret text
// is in anything the servers print. The flags' checks (exit 2) at the end.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { type ClientAuthEvent, type TokenInput, createAuthInterceptor } from "@connectauth/client";
import { type DpopProver, createDpopProver } from "@connectauth/client/dpop";
import { createOAuth2TokenSource } from "@connectauth/client/oauth2";
import { devDefaults, startDevServer } from "@connectauth/node/dev";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { exampleTransport, protocols, type Protocol } from "../../packages/example/src/demo-cases.js";
import { readServeFlags } from "../../packages/example/src/serve-flags.js";
import { startExampleServer } from "../../packages/example/src/server.js";
import { failure } from "../support/failure.js";
import { type Served, npmStart, serve, serveUntilExit, stopAllServed } from "../support/example-serve.js";

after(stopAllServed);

/** A prover of a new non-extractable P-256 key, as a browser would keep it. */
async function newProver(): Promise<DpopProver> {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  return createDpopProver({ keyPair });
}

/** What went over the wire and what the client did: proofs sent, nonces received, the client's events. */
interface Seen {
  readonly proofs: string[];
  readonly nonces: string[];
  readonly events: ClientAuthEvent[];
}
const seen = (): Seen => ({ proofs: [], nonces: [], events: [] });
const everything: Seen = seen(); // every proof of the file, to look for in the servers' output

/** Behind the auth interceptor (nearer the transport): records each request's proof and each refusal's nonce. */
const recorder =
  (s: Seen): Interceptor =>
  (next) =>
  async (req) => {
    const proof = req.header.get("dpop");
    if (proof !== null) {
      s.proofs.push(proof);
      everything.proofs.push(proof);
    }
    try {
      return await next(req);
    } catch (e) {
      const nonce = ConnectError.from(e).metadata.get("dpop-nonce");
      if (nonce !== null) s.nonces.push(nonce);
      throw e;
    }
  };

/** A Greeter client whose interceptor sends `token` (as DPoP with `dpop`). */
function client(baseUrl: string, protocol: Protocol, token: TokenInput, dpop: DpopProver | undefined, s: Seen = seen()) {
  const auth = createAuthInterceptor({ token, dpop, onEvent: (e) => s.events.push(e) });
  return createClient(GreeterService, exampleTransport(baseUrl, protocol, undefined, [auth, recorder(s)]));
}

/** The page's tokens of a serve.ts with its development issuer: `dpop` bound to `jkt`. */
async function pageTokens(url: string, jkt: string) {
  const response = await fetch(`${url}/demo/tokens?jkt=${jkt}`);
  assert.equal(response.status, 200);
  return (await response.json()) as { greet: string; dpop: string; dpopMode: string };
}

const retries = (s: Seen) => s.events.filter((e) => e.type === "retry").map((e) => (e.type === "retry" ? e.reason : ""));

/**
 * Nothing a server printed holds a token's or a proof's payload or signature, or the nonce secret (a
 * JWS header is not secret: the printed development token shares the bound token's).
 */
function assertNothingSecret(output: string, ...secrets: string[]): void {
  for (const secret of [...secrets, ...everything.proofs]) {
    const parts = secret.split(".");
    for (const part of parts.length === 3 ? parts.slice(1) : parts) {
      assert.ok(!output.includes(part), "a token, proof or secret in the server's output");
    }
  }
}

describe("npm run serve -- --dpop required", () => {
  let served: Served;
  test("starts, says DPoP is required, and prints no bearer token", async () => {
    served = await serve(["--dpop", "required"], /^tokens bound to your key: /m);
    assert.match(served.output(), /^DPoP required: tokens bound to a key \(cnf\.jkt\) go as "Authorization: DPoP"/m);
    assert.match(served.output(), /^tokens bound to your key: GET http:\/\/127\.0\.0\.1:\d+\/demo\/tokens\?jkt=/m);
    assert.doesNotMatch(served.output(), /eyJ[\w-]+\.eyJ/, "a bearer token would be refused: none is printed");
  });

  for (const protocol of protocols) {
    test(`${protocol}: a bound call passes with a new proof; a bearer token is dpop_required`, async () => {
      const prover = await newProver();
      const tokens = await pageTokens(served.url, await prover.jkt());
      assert.equal(tokens.dpopMode, "required");
      assert.deepEqual(decodeJwt(tokens.dpop)["cnf"], { jkt: await prover.jkt() });
      const s = seen();
      const bound = client(served.url, protocol, tokens.dpop, prover, s);
      assert.equal((await bound.greet({ name: "Ada" })).greeting, "Hello, Ada! (from browser-user)");
      assert.equal((await bound.greet({ name: "Bo" })).greeting, "Hello, Bo! (from browser-user)");
      assert.equal(s.proofs.length, 2, "one proof per call");
      assert.notEqual(s.proofs[0], s.proofs[1]);
      const got: string[] = [];
      for await (const m of bound.greetStream({ name: "S", count: 2 })) got.push(m.greeting);
      assert.deepEqual(got, ["Hello #1, S! (from browser-user)", "Hello #2, S! (from browser-user)"]);

      const refused = await failure(client(served.url, protocol, tokens.greet, undefined).greet({ name: "x" }));
      assert.equal(refused.code, Code.Unauthenticated);
      assert.deepEqual([refused.failure?.reason, refused.failure?.metadata["detail"]], ["INVALID_TOKEN", "dpop_required"]);
      assert.match(refused.wwwAuthenticate ?? "", /^DPoP /);
      const stolen = await failure(client(served.url, protocol, tokens.dpop, undefined).greet({ name: "x" }));
      assert.equal(stolen.failure?.metadata["detail"], "dpop_required");
      assertNothingSecret(served.output(), tokens.dpop);
    });
  }

  test("stops on SIGTERM", async () => {
    assert.equal(await served.stop(), 0);
  });
});

describe("npm run serve -- --dpop allowed", () => {
  let served: Served;
  test("starts, and still prints a bearer token", async () => {
    served = await serve(["--dpop", "allowed"], /^a bearer token with scopes .*:\n.+\n/m);
    assert.match(served.output(), /^DPoP allowed: /m);
    assert.match(served.output(), /^a bearer token with scopes "greet admin", valid 1 hour:$/m);
  });

  for (const protocol of protocols) {
    test(`${protocol}: bearer tokens pass, a bound token passes with DPoP and is dpop_bound as Bearer`, async () => {
      const prover = await newProver();
      const tokens = await pageTokens(served.url, await prover.jkt());
      assert.equal(
        (await client(served.url, protocol, tokens.greet, undefined).greet({ name: "B" })).greeting,
        "Hello, B! (from browser-user)",
      );
      assert.equal(
        (await client(served.url, protocol, tokens.dpop, prover).greet({ name: "D" })).greeting,
        "Hello, D! (from browser-user)",
      );
      const stolen = await failure(client(served.url, protocol, tokens.dpop, undefined).greet({ name: "x" }));
      assert.deepEqual([stolen.failure?.reason, stolen.failure?.metadata["detail"]], ["INVALID_TOKEN", "dpop_bound"]);
      // A token bound to another key: the proof's key is not the token's (jkt).
      const other = await newProver();
      const wrongKey = await failure(client(served.url, protocol, tokens.dpop, other).greet({ name: "x" }));
      assert.deepEqual([wrongKey.failure?.reason, wrongKey.failure?.metadata["detail"]], ["INVALID_DPOP_PROOF", "jkt"]);
      assertNothingSecret(served.output(), tokens.dpop);
    });
  }

  test("stops on SIGTERM", async () => {
    assert.equal(await served.stop(), 0);
  });
});

describe("two servers with the same --dpop-nonce-secret, tokens from the development issuer's DPoP token request", () => {
  const secret = randomBytes(32).toString("base64url");
  let dev: Awaited<ReturnType<typeof startDevServer>>;
  let one: Served;
  let two: Served;
  let own: Served; // --dpop-nonce alone: a random secret of its own
  test("start, each against the same development issuer", async () => {
    dev = await startDevServer({ defaultScopes: ["greet"] });
    const issuerFlags = [
      "--issuer",
      dev.url,
      "--audience",
      devDefaults.audience,
      "--jwks-url",
      `${dev.url}/.well-known/jwks.json`,
    ];
    [one, two, own] = await Promise.all([
      serve([...issuerFlags, "--dpop", "required", "--dpop-nonce-secret", secret], /^DPoP /m),
      serve([...issuerFlags, "--dpop", "required", "--dpop-nonce-secret", secret], /^DPoP /m),
      serve([...issuerFlags, "--dpop", "required", "--dpop-nonce"], /^DPoP /m),
    ]);
    assert.match(one.output(), /^DPoP required, with nonces \(the secret given\): /m);
    assert.match(own.output(), /^DPoP required, with nonces \(a random secret of this process\): /m);
  });

  for (const protocol of protocols) {
    test(`${protocol}: a nonce of one is taken by the other, not by a server with its own secret`, async () => {
      const prover = await newProver();
      const token = createOAuth2TokenSource({
        issuer: dev.url,
        clientId: devDefaults.clientId,
        clientSecret: devDefaults.clientSecret,
        scopes: ["greet"],
        dpop: prover,
      });
      const s1 = seen();
      assert.equal(
        (await client(one.url, protocol, token, undefined, s1).greet({ name: "1" })).greeting,
        "Hello, 1! (from dev-client)",
      );
      assert.deepEqual(decodeJwt(await token.getToken())["cnf"], { jkt: await prover.jkt() }, "a token bound to the key");
      assert.deepEqual(retries(s1), ["USE_DPOP_NONCE"], "the first call asked for a nonce, and was made once more");
      assert.equal(s1.nonces.length, 1);
      const nonce = s1.nonces[0]!;

      // The other server, never called before, given the first one's nonce: no nonce asked.
      prover.rememberNonce(two.url, new Headers({ "dpop-nonce": nonce }));
      const s2 = seen();
      assert.equal(
        (await client(two.url, protocol, token, undefined, s2).greet({ name: "2" })).greeting,
        "Hello, 2! (from dev-client)",
      );
      assert.deepEqual(retries(s2), [], "the same secret, the same nonce");

      // A server with its own secret refuses it and sends its own.
      prover.rememberNonce(own.url, new Headers({ "dpop-nonce": nonce }));
      const s3 = seen();
      assert.equal(
        (await client(own.url, protocol, token, undefined, s3).greet({ name: "3" })).greeting,
        "Hello, 3! (from dev-client)",
      );
      assert.deepEqual(retries(s3), ["USE_DPOP_NONCE"]);
      assert.notEqual(s3.nonces[0], nonce);
      for (const served of [one, two, own]) assertNothingSecret(served.output(), await token.getToken(), secret);
    });
  }

  test("stop", async () => {
    assert.deepEqual(await Promise.all([one.stop(), two.stop(), own.stop()]), [0, 0, 0]);
    await dev.close();
  });
});

test("serve's flags: bad values exit 2 with a sentence that names the flag, never the secret", async () => {
  const short = "short-secret";
  const cases: [readonly string[], RegExp][] = [
    [["--dpop", "always"], /^--dpop must be "required" or "allowed", got "always"$/],
    [["--dpop-nonce"], /^--dpop-nonce and --dpop-nonce-secret need --dpop required\|allowed$/],
    [["--dpop-nonce-secret", "x".repeat(40)], /need --dpop/],
    [["--dpop", "allowed", "--dpop-nonce-secret", short], /^--dpop-nonce-secret must be at least 32 bytes/],
    [["--clock-tolerance=-5"], /^--clock-tolerance must be a whole number of seconds/],
    [["--clock-tolerance", "1.5"], /--clock-tolerance/],
    [["--port", "70000"], /^--port must be a port number/],
    [["--issuer", "http://127.0.0.1:1"], /go together/],
    [["--dpop"], /argument missing|--dpop/],
    [["--nonsense"], /Unknown option '--nonsense'/],
  ];
  for (const [args, message] of cases) {
    const flags = readServeFlags(args);
    assert.ok("error" in flags, args.join(" "));
    assert.match(flags.error, message);
    assert.ok(!flags.error.includes(short));
  }
  // What good flags give the server: the nonce secret given, or a random one.
  const secret = "s".repeat(32);
  assert.deepEqual(readServeFlags(["--dpop", "allowed", "--dpop-nonce-secret", secret, "--clock-tolerance", "5"]), {
    options: {
      port: 8080,
      host: "127.0.0.1",
      auth: { kind: "dev" },
      dpop: { mode: "allowed", nonce: { secret } },
      clockToleranceSeconds: 5,
    },
    nonce: ", with nonces (the secret given)",
  });
  const random = readServeFlags(["--dpop", "required", "--dpop-nonce"], () => "r".repeat(43));
  assert.ok(!("error" in random));
  assert.deepEqual(random.options.dpop, { mode: "required", nonce: { secret: "r".repeat(43) } });
  const off = readServeFlags([]);
  assert.ok(!("error" in off));
  assert.equal(off.options.dpop, undefined);

  // As a process: the exit code and the message on stderr.
  for (const [args, message] of [
    [["--dpop", "sometimes"], /npm run serve: --dpop must be "required" or "allowed"/],
    [["--dpop", "allowed", "--dpop-nonce-secret", short], /npm run serve: --dpop-nonce-secret must be at least 32 bytes/],
  ] as const) {
    const { code, stderr } = await serveUntilExit(args);
    assert.equal(code, 2);
    assert.match(stderr, message);
    assert.ok(!stderr.includes(short));
  }
});

test("--clock-tolerance is the JWT authenticator's clockToleranceSeconds", async () => {
  const strict = await startExampleServer({ clockToleranceSeconds: 0 });
  const lenient = await startExampleServer({ clockToleranceSeconds: 60 });
  try {
    for (const server of [strict, lenient]) {
      const early = await server.devIssuer!.mint({ subject: "alice", scopes: ["greet"], notBeforeSeconds: 20 });
      const call = client(server.url, "connect", early, undefined).greet({ name: "t" });
      if (server === lenient) assert.equal((await call).greeting, "Hello, t! (from alice)");
      else assert.equal((await failure(call)).failure?.reason, "TOKEN_NOT_YET_VALID");
    }
    await assert.rejects(startExampleServer({ clockToleranceSeconds: -1 }), TypeError);
    await assert.rejects(
      startExampleServer({ dpop: "allowed", auth: { kind: "authenticators", authenticators: () => [] } }),
      /dpop and clockToleranceSeconds are for the example's JWT authenticator/,
    );
  } finally {
    await Promise.all([strict.close(), lenient.close()]);
  }
});

test("npm start (demo.ts): the DPoP rows end as the contract says, on every protocol, and it exits 0", async () => {
  const { code, stdout } = await npmStart();
  assert.equal(code, 0, stdout);
  for (const protocol of protocols) {
    for (const row of [
      /^Greet \(DPoP-bound token, new proof\) +PROTOCOL +OK +- +as expected$/,
      /^Greet \(DPoP proof replayed\) +PROTOCOL +Unauthenticated \(16\) +INVALID_DPOP_PROOF \(jti_replay\) +as expected$/,
      /^Greet \(stolen DPoP-bound token as Bearer\) +PROTOCOL +Unauthenticated \(16\) +INVALID_TOKEN \(dpop_bound\) +as expected$/,
    ]) {
      assert.match(stdout, new RegExp(row.source.replace("PROTOCOL", protocol), "m"));
    }
  }
  assert.match(stdout, /^All 24 calls ended as the contract says\.$/m);
  assert.doesNotMatch(stdout, /eyJ[\w-]{16,}/, "no token or proof printed");
});
