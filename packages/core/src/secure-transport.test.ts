import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { assertSecureTransport } from "./secure-transport.js";
import { readAuthFailure } from "./auth-failure.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** "allowed", or the reason and code of the refusal. */
function verdict(url: string, options?: { allowInsecureTransport?: boolean }): string {
  try {
    assertSecureTransport(url, options);
    return "allowed";
  } catch (e) {
    assert.ok(e instanceof ConnectError);
    const failure = readAuthFailure(e);
    assert.ok(!e.message.includes("/svc/M"), "the message names the origin at most");
    return `${failure?.reason} ${Code[e.code]}`;
  }
}

const refused = "INSECURE_TRANSPORT FailedPrecondition";

suite("assertSecureTransport()", () => {
  test("decides by the parsed URL: every spelling of http: to a remote host is refused", () => {
    const cases: [string, string][] = [
      ["https://x/svc/M", "allowed"],
      ["HTTPS://api.example.com/svc/M", "allowed"],
      ["http://api.example.com/svc/M", refused],
      ["HTTP://api.example.com/svc/M", refused],
      ["Http://api.example.com/svc/M", refused],
      [" http://api.example.com/svc/M", refused],
      ["\thttp://api.example.com/svc/M", refused],
      ["h\tttp://api.example.com/svc/M", refused],
      ["ht\ntp://api.example.com/svc/M", refused],
      ["http://localhost.evil.com/svc/M", refused],
      ["http://127.0.0.1.nip.io/svc/M", refused],
      ["http://app.localhost/svc/M", refused],
      ["http://[::1]/svc/M", "allowed"],
      ["http://127.5.6.7/svc/M", "allowed"],
      ["HTTP://127.0.0.1:8080/svc/M", "allowed"],
      ["http://localhost:1/svc/M", "allowed"],
    ];
    for (const [url, expected] of cases) assert.equal(verdict(url), expected, JSON.stringify(url));
  });

  test("every other scheme and an unparsable URL are refused, even with allowInsecureTransport", () => {
    for (const url of [
      "ws://api.example.com/svc/M",
      "wss://api.example.com/svc/M",
      "ftp://api.example.com/svc/M",
      "file:///svc/M",
      "data:,x",
      "api.example.com/svc/M",
      "http://",
      "not a url",
      "",
    ]) {
      assert.equal(verdict(url), refused, JSON.stringify(url));
      assert.equal(verdict(url, { allowInsecureTransport: true }), refused, JSON.stringify(url));
    }
  });

  test("allowInsecureTransport: true allows http: to any host, nothing else", () => {
    assert.equal(verdict("HTTP://mesh-peer/svc/M", { allowInsecureTransport: true }), "allowed");
    assert.equal(verdict("http://mesh-peer/svc/M", { allowInsecureTransport: "yes" as never }), refused, "only true opts in");
  });

  test("the message says what to do and names the origin, never the path or user info", () => {
    const e = (() => {
      try {
        assertSecureTransport("HTTP://user:secret-pass@api.example.com:8080/svc/M?token=secret-q");
      } catch (error) {
        return error as ConnectError;
      }
      return assert.fail("expected a refusal");
    })();
    assert.match(e.rawMessage, /http:\/\/api\.example\.com:8080/);
    assert.match(e.rawMessage, /https:.*allowInsecureTransport: true/);
    const exposed = JSON.stringify([e.message, String(e.cause), e.findDetails(ErrorInfoSchema), [...e.metadata]]);
    assert.doesNotMatch(exposed, /secret|svc\/M/);
  });
});
