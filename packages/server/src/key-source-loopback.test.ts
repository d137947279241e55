// The key URLs' loopback exception (remote.allowInsecureLoopback) is core's one loopback check:
// exactly localhost, 127.0.0.0/8 and [::1], as the WHATWG parser reads the URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRemoteKeySource } from "./remote-key-source.js";

test("allowInsecureLoopback: http: is accepted for localhost, 127.0.0.0/8 and [::1] only", () => {
  const allowed = [
    "http://localhost:1/jwks",
    "http://LOCALHOST:1/jwks",
    "http://127.5.6.7/jwks",
    "http://127.1/jwks",
    "http://[::1]:1/jwks",
  ];
  for (const url of allowed) {
    assert.doesNotThrow(() => createRemoteKeySource(new URL(url), { allowInsecureLoopback: true }), url);
    assert.throws(() => createRemoteKeySource(new URL(url)), TypeError, `${url} without the opt-in`);
  }
  for (const url of [
    "http://app.localhost/jwks",
    "http://localhost.evil.com/jwks",
    "http://127.0.0.1.nip.io/jwks",
    "http://[::ffff:127.0.0.1]/jwks",
  ]) {
    assert.throws(() => createRemoteKeySource(new URL(url), { allowInsecureLoopback: true }), TypeError, url);
  }
});
