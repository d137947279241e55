import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { closestName } from "./closest-name.js";

suite("closestName()", () => {
  const names = ["a.Svc", "a.Svc/Ping", "a.Svc/Pong", "a.Svc/GreetStream"];

  test("a match ignoring case comes before any nearer-looking spelling", () => {
    assert.equal(closestName("a.svc/ping", names), "a.Svc/Ping");
    assert.equal(closestName("A.SVC/PONG", names), "a.Svc/Pong");
    // "a.Svc/PINGx" is one edit from "a.Svc/PING" and "a.Svc/ping" four, but it equals the latter ignoring case.
    assert.equal(closestName("a.Svc/PING", ["a.Svc/PINGx", "a.Svc/ping"]), "a.Svc/ping");
  });

  test("else the fewest edits, the first listed on a tie", () => {
    assert.equal(closestName("a.Svc/Pin", names), "a.Svc/Ping");
    assert.equal(closestName("a.Svc/Greet_Stream", names), "a.Svc/GreetStream");
    assert.equal(closestName("a.Sv", names), "a.Svc");
    assert.equal(closestName("a.Svc/P", ["a.Svc/Pa", "a.Svc/Pb"]), "a.Svc/Pa");
    assert.equal(closestName("", ["abc", "x"]), "x");
  });

  test("nothing to suggest without candidates", () => {
    assert.equal(closestName("a.Svc", []), undefined);
  });
});
