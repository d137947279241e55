import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type JWTVerifyGetKey, exportJWK, generateKeyPair } from "jose";
import { type KeyServer, startKeyServer } from "../../../test/support/key-server.js";
import { createTestSigner } from "../../../test/support/tokens.js";
import { createDiscoveryKeySource, discoveryKeySource } from "./discovery-key-source.js";
import { resolveKeySource } from "./key-source.js";
import { familyOf } from "./key-type-guard.js";
import { createRemoteKeySource, remoteKeySource } from "./remote-key-source.js";
import { keySetWatchOf } from "./key-set-watch.js";
import { createJwtAuthenticator } from "./jwt-authenticator.js";

test("remote key URLs: https, or http on loopback only when allowed", () => {
  assert.doesNotThrow(() => createRemoteKeySource(new URL("https://issuer.example.com/jwks")));
  assert.throws(() => createRemoteKeySource(new URL("http://issuer.example.com/jwks")), TypeError);
  assert.throws(() => createRemoteKeySource(new URL("http://127.0.0.1:1/jwks")), TypeError);
  assert.throws(() => createRemoteKeySource(new URL("http://10.0.0.1/jwks"), { allowInsecureLoopback: true }), TypeError);
  for (const host of ["127.0.0.1:1", "[::1]:1", "localhost:1"]) {
    assert.doesNotThrow(() => createRemoteKeySource(new URL(`http://${host}/jwks`), { allowInsecureLoopback: true }));
  }
  assert.throws(() => createRemoteKeySource(new URL("https://i.example/jwks"), { timeoutDuration: -1 }), TypeError);
  assert.throws(() => createDiscoveryKeySource("not a url"), TypeError);
  assert.throws(() => createDiscoveryKeySource("http://issuer.example.com"), TypeError);
});

test("discovery and keys: exactly one, and discovery for one issuer", () => {
  const base = { audience: "a", algorithms: ["ES256"] };
  assert.throws(() => createJwtAuthenticator({ ...base, issuer: "https://i.example" }), /exactly one of keys and discovery/);
  assert.throws(
    () =>
      createJwtAuthenticator({ ...base, issuer: "https://i.example", discovery: true, keys: new URL("https://i.example/jwks") }),
    /exactly one/,
  );
  assert.throws(
    () => createJwtAuthenticator({ ...base, issuer: ["https://a.example", "https://b.example"], discovery: true }),
    /one issuer/,
  );
  assert.doesNotThrow(() => createJwtAuthenticator({ ...base, issuer: "https://i.example", discovery: true }));
});

test("local keys: public JWKs only, families known", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  assert.equal(resolveKeySource(pub, {}, "t").family, "asymmetric");
  assert.equal(resolveKeySource(publicKey, {}, "t").family, "asymmetric");
  assert.equal(resolveKeySource(new Uint8Array(32).fill(1), {}, "t").family, "hmac");
  assert.throws(() => resolveKeySource(priv, {}, "t"), /public keys only/);
  assert.throws(() => resolveKeySource({ keys: [priv] }, {}, "t"), /public keys only/);
  assert.throws(() => resolveKeySource({ kty: "oct", k: "c2VjcmV0" }, {}, "t"), /bytes/);
  assert.deepEqual(["HS256", "HS512", "ES256", "RS256", "EdDSA"].map(familyOf), [
    "hmac",
    "hmac",
    "asymmetric",
    "asymmetric",
    "asymmetric",
  ]);
});

const servers: KeyServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function rotatingIssuer() {
  const k1 = await createTestSigner("k1");
  const k2 = await createTestSigner("k2");
  const keys = await startKeyServer(k1.jwks);
  servers.push(keys);
  return { k1, k2, keys };
}
const keyFor = async (getKey: JWTVerifyGetKey, kid: string) => getKey({ alg: "ES256", kid }, { payload: "", signature: "" });

describe("keySetWatchOf(): the key set a remote source fetched last, for the verified-token cache", () => {
  // cooldownDuration 0: a kid not in the set fetches the set again at once.
  const remote = { allowInsecureLoopback: true, cooldownDuration: 0, failureBackoff: 0, timeoutDuration: 500 };

  test("a key stays trusted while fetches hold it, and stops at the first fetch without it", async () => {
    const { k1, k2, keys } = await rotatingIssuer();
    const getKey = createRemoteKeySource(keys.jwksUrl, remote);
    const watch = keySetWatchOf(getKey);
    assert.ok(watch !== undefined);
    const stillTrusted = await watch.trustCheck(await keyFor(getKey, "k1"));
    assert.equal(stillTrusted(), true);
    keys.jwks = { keys: [...k1.jwks.keys, ...k2.jwks.keys] }; // the issuer adds a key
    await keyFor(getKey, "k2"); // unknown kid: fetched again
    assert.equal(keys.requests.jwks, 2);
    assert.equal(stillTrusted(), true, "k1 is still in the set");
    const k2Trusted = await watch.trustCheck(await keyFor(getKey, "k2"));
    const k3 = await createTestSigner("k3");
    keys.jwks = { keys: [...k2.jwks.keys, ...k3.jwks.keys] }; // then removes the first one, adding another
    assert.equal(stillTrusted(), true, "nothing fetched yet: nothing is known to be gone");
    await keyFor(getKey, "k3");
    assert.equal(keys.requests.jwks, 3);
    assert.equal(stillTrusted(), false, "gone as soon as a fetch shows it gone");
    assert.equal(k2Trusted(), true, "a key the fetch still holds stays trusted");
  });

  test("a failed fetch (an outage, an invalid set) removes nothing", async () => {
    const { keys } = await rotatingIssuer();
    const getKey = createRemoteKeySource(keys.jwksUrl, remote);
    const stillTrusted = await keySetWatchOf(getKey)!.trustCheck(await keyFor(getKey, "k1"));
    for (const mode of ["500", "drop", "bad-jwks", "not-json"] as const) {
      keys.mode = mode;
      const before = keys.requests.jwks;
      // An unknown kid makes it fetch; the fetch fails: an outage, not the token's fault.
      await assert.rejects(keyFor(getKey, "rotated"), { code: "KEYS_UNAVAILABLE" });
      assert.equal(keys.requests.jwks, before + 1, mode);
      assert.equal(stillTrusted(), true, mode);
      // The keys fetched before keep verifying, and keep being trusted.
      const again = await keySetWatchOf(getKey)!.trustCheck(await keyFor(getKey, "k1"));
      assert.equal(again(), true, mode);
    }
    keys.mode = "ok";
    keys.jwks = { keys: [] };
    await assert.rejects(keyFor(getKey, "rotated"), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    assert.equal(stillTrusted(), false, "but a valid set that was fetched without the key does remove it");
  });

  test("keys found by discovery are watched too; local keys and your own lookup are not", async () => {
    const { k2, keys } = await rotatingIssuer();
    const getKey = createDiscoveryKeySource(keys.url, remote);
    const stillTrusted = await keySetWatchOf(getKey)!.trustCheck(await keyFor(getKey, "k1"));
    assert.equal(stillTrusted(), true);
    keys.jwks = k2.jwks;
    await keyFor(getKey, "k2");
    assert.equal(stillTrusted(), false);
    const local = resolveKeySource(k2.jwks, {}, "t").getKey;
    assert.equal(keySetWatchOf(local), undefined);
    const own: JWTVerifyGetKey = async () => k2.publicKey;
    assert.equal(keySetWatchOf(resolveKeySource(own, {}, "t").getKey), undefined);
    assert.ok(keySetWatchOf(resolveKeySource(keys.jwksUrl, remote, "t").getKey), "a JWKS URL is watched");
  });
});

const unavailable = { code: "KEYS_UNAVAILABLE" };
// cooldownDuration 0: a kid not in the set makes jose fetch the set again at once (on its own clock).
const backoff = { allowInsecureLoopback: true, cooldownDuration: 0, failureBackoff: 1000, timeoutDuration: 500 };

describe("the outage backoff of remote key sources, driven by their now: no sleeping", () => {
  test("a failed fetch starts the backoff: keys fetched before serve, no fetch until it ends by the clock", async () => {
    const { k1, k2, keys } = await rotatingIssuer();
    let clock = 50_000;
    const getKey = remoteKeySource(keys.jwksUrl, backoff, { what: "test", now: () => clock });
    await keyFor(getKey, "k1");
    assert.equal(keys.requests.jwks, 1);

    keys.mode = "500";
    await assert.rejects(keyFor(getKey, "k2"), unavailable, "an unknown kid during an outage may be a rotated key");
    assert.equal(keys.requests.jwks, 2, "the unknown kid fetched, and the fetch failed");
    clock += 999;
    await keyFor(getKey, "k1"); // from the keys fetched before
    await assert.rejects(keyFor(getKey, "k2"), unavailable);
    assert.equal(keys.requests.jwks, 2, "no fetch within the backoff");

    clock += 1; // the backoff is over: the next lookup tries the source again, and fails again
    await assert.rejects(keyFor(getKey, "k2"), unavailable);
    assert.equal(keys.requests.jwks, 3);

    keys.mode = "ok";
    keys.jwks = { keys: [...k1.jwks.keys, ...k2.jwks.keys] };
    clock += 999;
    await assert.rejects(keyFor(getKey, "k2"), unavailable, "the second backoff runs from the second failure");
    assert.equal(keys.requests.jwks, 3);
    clock += 1;
    await keyFor(getKey, "k2");
    assert.equal(keys.requests.jwks, 4, "fetched once the backoff ended, and the rotated key found");
    await keyFor(getKey, "k1");
    assert.equal(keys.requests.jwks, 4);
  });

  test("with nothing fetched before (a JWKS URL, a discovery), an outage is KEYS_UNAVAILABLE until the backoff ends", async () => {
    const sources = [
      {
        name: "remote",
        open: (keys: KeyServer, now: () => number) => remoteKeySource(keys.jwksUrl, backoff, { what: "test", now }),
      },
      {
        name: "discovery",
        open: (keys: KeyServer, now: () => number) => discoveryKeySource(keys.url, backoff, { what: "test", now }),
      },
    ];
    for (const { name, open } of sources) {
      const { keys } = await rotatingIssuer();
      let clock = 0;
      const getKey = open(keys, () => clock);
      const requests = () => keys.requests.jwks + keys.requests.discovery;
      keys.mode = "drop";
      await assert.rejects(keyFor(getKey, "k1"), unavailable, name);
      keys.mode = "ok";
      clock = 999;
      await assert.rejects(keyFor(getKey, "k1"), unavailable, name);
      assert.equal(requests(), 1, `${name}: no request within the backoff`);
      clock = 1000;
      await keyFor(getKey, "k1");
      assert.equal(requests(), name === "discovery" ? 3 : 2, `${name}: tried again once the backoff ended`);
    }
  });
});
