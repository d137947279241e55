import { test } from "node:test";
import assert from "node:assert/strict";
import { createApiKeyAuthenticator, hashApiKey } from "./api-key-authenticator.js";

const key = "k_live_0123456789abcdef0123456789abcdef";

test("hashApiKey is the SHA-256 hex of the key's UTF-8 bytes", async () => {
  // printf %s abc | sha256sum
  assert.equal(await hashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("a configured key maps to its identity; any other is INVALID_API_KEY", async () => {
  const apiKeys = createApiKeyAuthenticator({
    keys: [
      { sha256: (await hashApiKey(key)).toUpperCase(), subject: "job", scopes: ["greet"], claims: { tenant: "t1" } },
      { sha256: await hashApiKey("k_other_key_abcdefghijklmnop"), subject: "other" },
    ],
  });
  assert.deepEqual(apiKeys.headers, ["x-api-key"]);
  assert.deepEqual(apiKeys.schemes, []);
  const ok = await apiKeys.authenticate({ scheme: "", value: key, header: "x-api-key" });
  assert.ok(ok.ok);
  assert.deepEqual(
    [ok.identity.subject, [...ok.identity.scopes], ok.identity.claims["tenant"], ok.identity.authenticator],
    ["job", ["greet"], "t1", "api-key"],
  );
  for (const wrong of [`${key}x`, key.slice(1), "", "x".repeat(600)]) {
    const outcome = await apiKeys.authenticate({ scheme: "", value: wrong });
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.reason === "INVALID_API_KEY");
    assert.ok(!JSON.stringify(outcome).includes(key));
  }
});

test("keys may come by an Authorization scheme instead of a header", async () => {
  const apiKeys = createApiKeyAuthenticator({
    keys: [{ sha256: await hashApiKey(key), subject: "job" }],
    header: null,
    scheme: "ApiKey",
  });
  assert.deepEqual([apiKeys.schemes, apiKeys.headers], [["apikey"], []]);
  assert.ok((await apiKeys.authenticate({ scheme: "apikey", value: key })).ok);
});

test("misconfiguration throws TypeError", async () => {
  const sha256 = await hashApiKey(key);
  assert.throws(() => createApiKeyAuthenticator({ keys: [] }), TypeError);
  assert.throws(() => createApiKeyAuthenticator({ keys: [{ sha256: key, subject: "x" }] }), /64 hex/);
  assert.throws(
    () =>
      createApiKeyAuthenticator({
        keys: [
          { sha256, subject: "a" },
          { sha256, subject: "b" },
        ],
      }),
    /twice/,
  );
  assert.throws(() => createApiKeyAuthenticator({ keys: [{ sha256, subject: "" }] }), /subject/);
  assert.throws(() => createApiKeyAuthenticator({ keys: [{ sha256, subject: "a" }], header: null }), /header or a scheme/);
});
