// Remote key sources against real key servers on 127.0.0.1 (request counting, outages, slowness,
// rotation, unknown-kid floods), OIDC discovery and several issuers at once, each seen over the wire
// through the example Greeter server.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { CompactEncrypt } from "jose";
import {
  type Authenticator,
  type JwtAuthenticatorOptions,
  type RemoteKeyOptions,
  createJwtAuthenticator,
  createMultiIssuerJwtAuthenticator,
} from "@connectauth/server";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { type KeyServer, type KeyServerMode, startKeyServer } from "../support/key-server.js";
import { type TestSigner, createTestSigner } from "../support/tokens.js";
import { type Protocol, assertRefused, bearer, protocols, rawClient, refusal } from "../support/wire.js";

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function keyServerWith(kid: string): Promise<{ keys: KeyServer; signer: TestSigner }> {
  const signer = await createTestSigner(kid);
  const keys = await startKeyServer(signer.jwks);
  closers.push(() => keys.close());
  return { keys, signer };
}

async function serve(authenticator: Authenticator): Promise<ExampleServer> {
  const server = await startExampleServer({ auth: { kind: "authenticators", authenticators: () => [authenticator] } });
  closers.push(() => server.close());
  return server;
}

/**
 * A JWT authenticator on a remote JWKS, by default without the token cache (so every call looks its
 * key up).
 */
async function remoteSetup(remote: RemoteKeyOptions, more: Pick<JwtAuthenticatorOptions, "cache" | "now"> = { cache: false }) {
  const { keys, signer } = await keyServerWith("k1");
  const server = await serve(
    createJwtAuthenticator({
      issuer: keys.url,
      audience: "greeter",
      algorithms: ["ES256"],
      keys: keys.jwksUrl,
      remote: { allowInsecureLoopback: true, ...remote },
      ...more,
    }),
  );
  const token = (s: TestSigner = signer) => s.sign({ iss: keys.url, aud: "greeter", sub: "alice", scope: "greet" });
  return { keys, signer, server, token };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function assertAccepted(server: ExampleServer, token: string, protocol: Protocol = "grpc") {
  const me = await rawClient(server.url, protocol, bearer(token)).whoAmI({});
  assert.equal(me.subject, "alice");
}

async function assertKeysUnavailable(server: ExampleServer, token: string, protocol: Protocol = "grpc") {
  const error = await refusal(server.url, protocol, bearer(token));
  assertRefused(error, { code: Code.Unavailable, reason: "KEYS_UNAVAILABLE", detail: "key_source" }, [token], protocol);
  assert.equal(error.metadata.get("www-authenticate"), null, "no challenge: a new token cannot help");
}

describe("remote JWKS", () => {
  test("valid tokens verify; many calls cost one fetch", async () => {
    const { keys, server, token } = await remoteSetup({});
    const t = await token();
    for (const protocol of protocols) await assertAccepted(server, t, protocol);
    for (let i = 0; i < 5; i++) await assertAccepted(server, await token());
    assert.equal(keys.requests.jwks, 1);
  });

  test("an outage with nothing cached is KEYS_UNAVAILABLE (Unavailable) on every protocol, then recovers", async () => {
    const { keys, server, token } = await remoteSetup({ timeoutDuration: 300, failureBackoff: 0 });
    const t = await token();
    const modes: KeyServerMode[] = ["500", "drop", "not-json", "bad-jwks", "slow"];
    for (const [i, mode] of modes.entries()) {
      keys.mode = mode;
      const started = performance.now();
      await assertKeysUnavailable(server, t, protocols[i % 3]);
      assert.ok(performance.now() - started < 1500, `${mode}: answered within the timeout, not the server's delay`);
    }
    for (const protocol of protocols) await assertKeysUnavailable(server, t, protocol);
    keys.mode = "ok";
    await assertAccepted(server, t);
  });

  test("keys fetched before keep verifying through an outage; fetches during it are bounded", async () => {
    const { keys, server, token, signer } = await remoteSetup({ cacheMaxAge: 100, cooldownDuration: 50, failureBackoff: 60000 });
    await assertAccepted(server, await token());
    assert.equal(keys.requests.jwks, 1);
    keys.mode = "500";
    await sleep(150); // the fetched set is now stale: jose refetches, and the fetch fails
    for (let i = 0; i < 10; i++) await assertAccepted(server, await token(), protocols[i % 3]);
    assert.equal(keys.requests.jwks, 2, "one failed refetch, then the backoff holds");
    // A kid we never saw may be a rotated key we cannot fetch now: an outage, not the token's fault.
    await assertKeysUnavailable(server, await signer.sign({ iss: keys.url, aud: "greeter", sub: "alice" }, { kid: "new" }));
  });

  test("a rotated key (new kid) is accepted after exactly one fetch", async () => {
    const { keys, server, token } = await remoteSetup({ cooldownDuration: 100 });
    await assertAccepted(server, await token());
    const rotated = await createTestSigner("k2");
    keys.jwks = { keys: [...keys.jwks.keys, ...rotated.jwks.keys] };
    await sleep(150);
    const before = keys.requests.jwks;
    await assertAccepted(server, await token(rotated));
    await assertAccepted(server, await token(rotated), "connect");
    assert.equal(keys.requests.jwks - before, 1);
  });

  test("a flood of unknown kids causes one fetch, and each is INVALID_TOKEN", async () => {
    const { keys, server, signer } = await remoteSetup({});
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signer.sign({ iss: keys.url, aud: "greeter", sub: "alice" }, { kid: `made-up-${i}` })),
    );
    const errors = await Promise.all(flood.map((t, i) => refusal(server.url, protocols[i % 3]!, bearer(t))));
    for (const [i, e] of errors.entries()) {
      assertRefused(e, { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "unknown_key" }, [flood[i]!]);
    }
    assert.equal(keys.requests.jwks, 1, "one fetch for the whole flood (cooldown)");
    await Promise.all(flood.slice(0, 10).map((t) => refusal(server.url, "grpc", bearer(t))));
    assert.equal(keys.requests.jwks, 1);
  });
});

describe("verified-token cache with a remote JWKS", () => {
  test("a key the issuer removes is refused from its next key-set fetch on, while the token's cache entry would still live", async () => {
    const clock = Date.now(); // never moves: every entry stays within its TTL and exp
    const {
      keys,
      server,
      token: mint,
    } = await remoteSetup({ cooldownDuration: 0 }, { cache: { ttlSeconds: 30 }, now: () => clock });
    const old = await mint();
    await assertAccepted(server, old);
    await assertAccepted(server, old, "connect");
    assert.equal(keys.requests.jwks, 1);
    const rotated = await createTestSigner("k2");
    keys.jwks = rotated.jwks; // the issuer withdraws k1 (compromised) and publishes k2
    await assertAccepted(server, old, "grpc-web"); // nothing fetched yet shows k1 gone: a cache hit
    assert.equal(keys.requests.jwks, 1, "a cache hit looks no key up");
    const fresh = await mint(rotated);
    await assertAccepted(server, fresh); // a kid not in the set: fetched again, without k1
    assert.equal(keys.requests.jwks, 2);
    for (const protocol of protocols) {
      const error = await refusal(server.url, protocol, bearer(old));
      assertRefused(error, { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "unknown_key" }, [old], protocol);
    }
    const fetches = keys.requests.jwks;
    await assertAccepted(server, fresh, "connect");
    assert.equal(keys.requests.jwks, fetches, "the kept key's tokens are still cache hits");
  });

  test("an outage removes no key: cached tokens and the keys fetched before keep verifying", async () => {
    let clock = Date.now();
    const {
      keys,
      server,
      signer,
      token: mint,
    } = await remoteSetup(
      { cooldownDuration: 0, cacheMaxAge: 100, failureBackoff: 0, timeoutDuration: 300 },
      { cache: { ttlSeconds: 30 }, now: () => clock },
    );
    const cached = await mint();
    await assertAccepted(server, cached);
    const modes: KeyServerMode[] = ["500", "drop", "bad-jwks"];
    for (const [i, mode] of modes.entries()) {
      keys.mode = mode;
      await sleep(120); // the fetched set is stale: the next lookup fetches it again, and that fails
      const before = keys.requests.jwks;
      await assertAccepted(server, await mint(), protocols[i]); // verified with the keys fetched before
      await assertKeysUnavailable(server, await signer.sign({ iss: keys.url, aud: "greeter", sub: "alice" }, { kid: "new" }));
      assert.ok(keys.requests.jwks > before, `${mode}: the key set was fetched again, and the fetch failed`);
      await assertAccepted(server, cached, protocols[(i + 1) % 3]);
    }
    clock += 31_000; // past the TTL: verified again, with the keys fetched before the outage
    await assertAccepted(server, cached);
    keys.mode = "ok";
    await assertAccepted(server, await mint());
  });
});

describe("OIDC discovery", () => {
  async function discoverySetup(remote: RemoteKeyOptions = {}) {
    const { keys, signer } = await keyServerWith("d1");
    const server = await serve(
      createJwtAuthenticator({
        issuer: keys.url,
        audience: "greeter",
        algorithms: ["ES256"],
        discovery: true,
        remote: { allowInsecureLoopback: true, ...remote },
        cache: false,
      }),
    );
    const token = () => signer.sign({ iss: keys.url, aud: "greeter", sub: "alice", scope: "greet" });
    return { keys, server, token };
  }

  test("finds the JWKS through the discovery document, once", async () => {
    const { keys, server, token } = await discoverySetup();
    for (const protocol of protocols) await assertAccepted(server, await token(), protocol);
    assert.deepEqual([keys.requests.discovery, keys.requests.jwks], [1, 1]);
  });

  test("a discovered issuer that is not exactly the configured one is refused (KEYS_UNAVAILABLE)", async () => {
    const { keys, server, token } = await discoverySetup({ failureBackoff: 0 });
    for (const wrong of [`${keys.url}/`, "https://issuer.example.com"]) {
      keys.discoveredIssuer = wrong;
      await assertKeysUnavailable(server, await token());
    }
    assert.equal(keys.requests.jwks, 0, "no keys are fetched from a document that names another issuer");
  });

  test("a discovery outage is KEYS_UNAVAILABLE, retried after the backoff", async () => {
    const { keys, server, token } = await discoverySetup({ failureBackoff: 100, timeoutDuration: 300 });
    keys.mode = "500";
    await assertKeysUnavailable(server, await token(), "connect");
    await assertKeysUnavailable(server, await token(), "grpc-web");
    assert.equal(keys.requests.discovery, 1, "no new request within the backoff");
    keys.mode = "ok";
    await sleep(120);
    await assertAccepted(server, await token());
  });
});

describe("several issuers", () => {
  test("the token's iss chooses the issuer, and it alone verifies the token", async () => {
    const a = await keyServerWith("k1");
    const b = await keyServerWith("k1"); // the same kid on purpose: the key set is chosen by iss, not kid
    const server = await serve(
      createMultiIssuerJwtAuthenticator({
        issuers: [a, b].map(({ keys }) => ({
          issuer: keys.url,
          audience: "greeter",
          algorithms: ["ES256"],
          keys: keys.jwksUrl,
          remote: { allowInsecureLoopback: true },
        })),
      }),
    );
    const claims = (iss: string) => ({ iss, aud: "greeter", sub: "alice", scope: "greet" });
    await assertAccepted(server, await a.signer.sign(claims(a.keys.url)), "connect");
    await assertAccepted(server, await b.signer.sign(claims(b.keys.url)), "grpc-web");
    const crossed = await a.signer.sign(claims(b.keys.url));
    assertRefused(
      await refusal(server.url, "grpc", bearer(crossed)),
      { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "signature" },
      [crossed],
    );
    const before = [a.keys.requests.jwks, b.keys.requests.jwks];
    const stranger = await a.signer.sign(claims("https://stranger.example.com"));
    for (const protocol of protocols) {
      assertRefused(
        await refusal(server.url, protocol, bearer(stranger)),
        { code: Code.Unauthenticated, reason: "INVALID_ISSUER", detail: "iss" },
        [stranger],
      );
    }
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims(a.keys.url))))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(new Uint8Array(32));
    assertRefused(
      await refusal(server.url, "connect", bearer(jwe)),
      { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "encrypted" },
      [jwe],
    );
    assert.deepEqual([a.keys.requests.jwks, b.keys.requests.jwks], before, "an unknown issuer or a JWE causes no fetch");
  });
});
