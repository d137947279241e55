import { test } from "node:test";
import assert from "node:assert/strict";
import type { MethodChange } from "./audit-diff.js";
import { AcknowledgementError, matchAcknowledgements, readAcknowledgements } from "./audit-diff-acknowledged.js";

test("reads the list: comments, blank lines, quotes, keys in either order, an empty file or []", () => {
  const text = [
    "# reviewed in the pull request that opened the catalog",
    "- method: a.v1.S/Get   # the reason, for the reviewer",
    "  change: became_public",
    "",
    "- change: 'scope_removed'",
    '  method: "a.v1.S/List"',
    "",
  ].join("\n");
  assert.deepEqual(readAcknowledgements(text, "ack.yaml"), [
    { method: "a.v1.S/Get", change: "became_public" },
    { method: "a.v1.S/List", change: "scope_removed" },
  ]);
  assert.deepEqual(readAcknowledgements("  - method: a.v1.S/Get\n    change: rule_removed\r\n", "ack.yaml"), [
    { method: "a.v1.S/Get", change: "rule_removed" },
  ]);
  assert.deepEqual(readAcknowledgements("", "ack.yaml"), []);
  assert.deepEqual(readAcknowledgements("# nothing yet\n[]\n", "ack.yaml"), []);
});

test("anything else is refused with the file, the line and a stable code", () => {
  const refused: [string, string, RegExp][] = [
    ["method: a.v1.S/Get\n", "syntax", /^ack\.yaml:1: expected entries of the shape/],
    [
      "- method: a.v1.S/Get\n  change: became_public\n  reason: ok\n",
      "syntax",
      /^ack\.yaml:3: expected "method: …" or "change: …"/,
    ],
    ["- method: a.v1.S/Get\n    change: became_public\n", "syntax", /^ack\.yaml:2: a key must line up/],
    ["- method: a.v1.S/Get\n\tchange: became_public\n", "syntax", /^ack\.yaml:2: tabs cannot indent YAML/],
    ["- method: [a.v1.S/Get]\n  change: became_public\n", "syntax", /^ack\.yaml:1: the value of method must be one word/],
    ["- method: a.v1.S/Get\n  change:\n", "syntax", /^ack\.yaml:2: the value of change/],
    ["- method:a.v1.S/Get\n  change: became_public\n", "syntax", /^ack\.yaml:1: expected "method: …"/],
    ["- method: a.v1.S/Get\n", "incomplete_entry", /^ack\.yaml:1: the entry has no change/],
    ["- method: a.v1.S/Get\n  method: a.v1.S/Put\n", "incomplete_entry", /^ack\.yaml:2: the entry of line 1 has method twice/],
    ["- method: GetBook\n  change: became_public\n", "bad_method", /^ack\.yaml:1: "GetBook" is not a method name/],
    [
      "- method: a.v1.S/Get\n  change: scope_added\n",
      "unknown_change",
      /"scope_added" is not a broadening change; one of: became_public,/,
    ],
    [
      "- method: a.v1.S/Get\n  change: became_public\n- method: a.v1.S/Get\n  change: became_public\n",
      "duplicate",
      /^ack\.yaml:3: a\.v1\.S\/Get became_public is listed twice/,
    ],
    ["[]\n- method: a.v1.S/Get\n", "syntax", /nothing may follow \[\]/],
  ];
  for (const [text, code, message] of refused) {
    assert.throws(
      () => readAcknowledgements(text, "ack.yaml"),
      (e: unknown) => e instanceof AcknowledgementError && e.code === code && message.test(e.message),
      text,
    );
  }
});

test("matching: an entry acknowledges the broadening reason of its method and word; the rest is unacknowledged or unused", () => {
  const reason = (change: string, kind: "broadening" | "narrowing") => ({ change, kind, message: "" }) as MethodChange["why"][0];
  const changes: MethodChange[] = [
    {
      method: "a.v1.S/Get",
      kind: "broadening",
      before: undefined,
      after: undefined,
      why: [reason("scope_removed", "broadening"), reason("scope_removed", "broadening"), reason("scope_added", "narrowing")],
    },
    {
      method: "a.v1.S/List",
      kind: "broadening",
      before: undefined,
      after: undefined,
      why: [reason("became_public", "broadening")],
    },
  ];
  const match = matchAcknowledgements(changes, [
    { method: "a.v1.S/Get", change: "scope_removed" },
    { method: "a.v1.S/Get", change: "became_public" },
  ]);
  assert.deepEqual([...match.acknowledged], ["a.v1.S/Get scope_removed"]);
  assert.deepEqual(match.unacknowledged, [{ method: "a.v1.S/List", change: "became_public" }]);
  assert.deepEqual(match.unused, [{ method: "a.v1.S/Get", change: "became_public" }]);
  assert.deepEqual(
    matchAcknowledgements(changes, []).unacknowledged.length,
    2,
    "two scopes removed from one method need one entry",
  );
});
