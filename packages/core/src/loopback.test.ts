import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { isLoopbackUrl } from "./loopback.js";

suite("isLoopbackUrl()", () => {
  test("localhost itself, 127.0.0.0/8 and [::1] are loopback, however the parser is given them", () => {
    for (const url of [
      "http://localhost",
      "http://localhost:8080/x",
      "http://LOCALHOST:1",
      "http://127.0.0.1",
      "http://127.5.6.7",
      "http://127.255.255.255:80",
      "http://127.1", // the WHATWG parser writes it 127.0.0.1, as fetch and Node's http read it
      "http://0x7f.0.0.1",
      "http://2130706433",
      "http://127.0.0.1.",
      "http://[::1]",
      "http://[::1]:5/x",
      "http://[0:0:0:0:0:0:0:1]",
      "https://127.0.0.1",
      " http://127.0.0.1", // fetch strips leading spaces too
      "http://127.000.000.001", // octets are read as decimal numbers and written without zeros
    ]) {
      assert.equal(isLoopbackUrl(url), true, url);
    }
    assert.equal(isLoopbackUrl(new URL("http://[::1]:9")), true, "a URL object");
  });

  test("names that look like loopback are not, nor *.localhost, nor an unparsable URL", () => {
    for (const url of [
      "http://localhost.evil.com",
      "http://127.0.0.1.nip.io",
      "http://127.0.0.1.evil.test",
      "http://app.localhost", // resolved by the system resolver in Node, not answered as loopback
      "http://localhost.", // a trailing dot: a DNS name, not the special name
      "http://[::ffff:127.0.0.1]", // IPv4-mapped: refused, fail closed
      "http://0.0.0.0",
      "http://128.0.0.1",
      "http://127.0.0.1a", // a name, not an address
      "http://127.0.0.256", // not an address, and no URL: the parser refuses it
      "http://127.0.0.1234",
      "http://127.1.2.3.4",
      "http://10.0.0.1",
      "http://api.example.com",
      "not a url",
      "",
    ]) {
      assert.equal(isLoopbackUrl(url), false, url);
    }
  });
});
