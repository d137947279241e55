import { test } from "node:test";
import assert from "node:assert/strict";
import { createContextValues } from "@connectrpc/connect";
import { type Authenticator, rejected } from "./authenticator.js";
import { type FoundCredentials, challengeOfAll, createCredentialSource } from "./credential-source.js";
import type { Denial } from "./denial.js";
import { headerValueCountKey } from "./protocol.js";

const make = (name: string, schemes: string[], headers?: string[]): Authenticator => ({
  name,
  schemes,
  headers,
  authenticate: async () => rejected("INVALID_TOKEN"),
});
const jwt = make("jwt", ["bearer"]);
const keys = make("keys", [], ["X-Api-Key"]);
const source = createCredentialSource([jwt, keys], { maxLength: 100 });
const values = createContextValues();

function found(read: FoundCredentials | Denial | undefined): FoundCredentials | undefined {
  assert.ok(read === undefined || "credentials" in read, `expected a credential, got ${JSON.stringify(read)}`);
  return read;
}

function denied(read: FoundCredentials | Denial | undefined): Denial {
  assert.ok(read !== undefined && !("credentials" in read), "expected a refusal");
  return read;
}

/** A read, and the scan of a credential it left unscanned, as the judge makes it for these authenticators. */
function scanned(from: ReturnType<typeof createCredentialSource>, headers: Headers): FoundCredentials | Denial | undefined {
  const read = from.read(headers, values);
  if (read === undefined || !("credentials" in read) || read.unscanned !== true) return read;
  return from.syntaxRefusal(read.credentials.value) ?? read;
}

const reasonOf = (read: FoundCredentials | Denial | undefined) => denied(read).reason;

test("reads one credential from Authorization or a named header, to its authenticator", () => {
  assert.equal(source.read(new Headers(), values), undefined);
  const b = found(source.read(new Headers({ authorization: "Bearer abc" }), values));
  assert.deepEqual([b?.credentials.value, b?.credentials.header, b?.authenticator.name], ["abc", "authorization", "jwt"]);
  const k = found(source.read(new Headers({ "x-api-key": " k1 " }), values));
  assert.deepEqual(
    [k?.credentials.value, k?.credentials.scheme, k?.credentials.header, k?.authenticator.name],
    ["k1", "", "x-api-key", "keys"],
  );
});

test("an Authorization scheme no authenticator takes is MISSING_CREDENTIALS, detail unsupported_scheme (RFC 6750 §3.1)", () => {
  for (const header of ["Basic YWxpY2U6cHc=", "Token abc", "DPoP abc"]) {
    const denial = denied(source.read(new Headers({ authorization: header }), values));
    assert.equal(denial.reason, "MISSING_CREDENTIALS", header);
    assert.equal(denial.metadata?.["detail"], "unsupported_scheme", header);
    assert.ok(!denial.message?.includes(header.split(" ")[1]!), "the credential is not echoed");
  }
});

test("two credentials are MULTIPLE_CREDENTIALS; a bad or long header value is MALFORMED_CREDENTIALS", () => {
  assert.equal(
    reasonOf(source.read(new Headers({ authorization: "Bearer a", "x-api-key": "k" }), values)),
    "MULTIPLE_CREDENTIALS",
  );
  assert.equal(
    reasonOf(
      source.read(
        new Headers([
          ["x-api-key", "a"],
          ["x-api-key", "b"],
        ]),
        values,
      ),
    ),
    "MULTIPLE_CREDENTIALS",
  );
  assert.equal(reasonOf(scanned(source, new Headers({ authorization: "Bearer a, Bearer b" }))), "MULTIPLE_CREDENTIALS");
  assert.equal(reasonOf(source.read(new Headers({ "x-api-key": "a b" }), values)), "MALFORMED_CREDENTIALS");
  assert.equal(reasonOf(source.read(new Headers({ "x-api-key": "k".repeat(101) }), values)), "MALFORMED_CREDENTIALS");
  assert.equal(reasonOf(scanned(source, new Headers({ authorization: "Bearer a b" }))), "MALFORMED_CREDENTIALS");
});

test("an Authorization credential for one authenticator is left unscanned; with another credential or an unknown scheme it is scanned first", () => {
  // Left to the judge (which scans it before the authenticator reads it, see header-judge.ts).
  const left = found(source.read(new Headers({ authorization: "Bearer a b" }), values));
  assert.deepEqual([left?.credentials.value, left?.unscanned], ["a b", true]);
  assert.equal(found(source.read(new Headers({ "x-api-key": "k" }), values))?.unscanned, undefined);
  assert.equal(source.syntaxRefusal("eyJhbGciOi.eyJzdWIi.c2ln"), undefined);
  assert.equal(source.syntaxRefusal("a, Bearer b")?.reason, "MULTIPLE_CREDENTIALS");
  // Its syntax comes before the refusal of two credentials, or of a scheme nobody takes.
  assert.equal(
    reasonOf(source.read(new Headers({ authorization: "Bearer a b", "x-api-key": "k" }), values)),
    "MALFORMED_CREDENTIALS",
  );
  assert.equal(reasonOf(source.read(new Headers({ authorization: "Basic a b" }), values)), "MALFORMED_CREDENTIALS");
});

test("a credential header the adapter counted twice on the wire is MULTIPLE_CREDENTIALS", () => {
  const counted = (counts: Record<string, number>) =>
    createContextValues().set(headerValueCountKey, (name: string) => counts[name] ?? 0);
  const one = new Headers({ authorization: "Bearer a" });
  assert.equal(reasonOf(source.read(one, counted({ authorization: 2 }))), "MULTIPLE_CREDENTIALS");
  assert.equal(reasonOf(source.read(new Headers({ "x-api-key": "k" }), counted({ "x-api-key": 2 }))), "MULTIPLE_CREDENTIALS");
  assert.equal(found(source.read(one, counted({ authorization: 1, cookie: 3 })))?.credentials.value, "a");
});

test("a scheme or header taken twice, or Authorization as a credential header, throws TypeError", () => {
  assert.throws(() => createCredentialSource([jwt, make("b", ["Bearer"])], { maxLength: 100 }), /both take the "bearer" scheme/);
  assert.throws(
    () => createCredentialSource([keys, make("b", [], ["x-api-key"])], { maxLength: 100 }),
    /both take the "x-api-key" header/,
  );
  assert.throws(() => createCredentialSource([make("b", [], ["Authorization"])], { maxLength: 100 }), TypeError);
  assert.throws(() => createCredentialSource([], { maxLength: 100 }), TypeError);
});

test("an authenticator's own extract() is one more place for a credential; what it throws is a fault without its text", () => {
  const cookie: Authenticator = {
    ...make("cookie", []),
    extract: (h) => /(?:^|;\s*)sid=([^;]+)/.exec(h.get("cookie") ?? "")?.[1],
  };
  const withCookie = createCredentialSource([jwt, cookie], { maxLength: 100 });
  const f = found(withCookie.read(new Headers({ cookie: "a=1; sid=xyz" }), values));
  assert.deepEqual([f?.credentials.value, f?.credentials.header, f?.authenticator.name], ["xyz", undefined, "cookie"]);
  assert.equal(withCookie.read(new Headers({ cookie: "a=1" }), values), undefined);
  assert.equal(
    reasonOf(withCookie.read(new Headers({ cookie: "sid=xyz", authorization: "Bearer a" }), values)),
    "MULTIPLE_CREDENTIALS",
  );

  const throwing: Authenticator = {
    ...make("throwing", []),
    extract: (h) => {
      throw new Error(`bad cookie ${h.get("cookie")}`);
    },
  };
  const denial = denied(
    createCredentialSource([throwing], { maxLength: 100 }).read(new Headers({ cookie: "sid=secret" }), values),
  );
  assert.equal(denial.reason, undefined);
  assert.equal(denial.message, 'authenticator "throwing" failed');
});

test("a call without a usable credential is asked for the union of what the authenticators ask for", () => {
  const asking = (name: string, schemes: string[], challenge?: Authenticator["challenge"]): Authenticator => ({
    ...make(name, schemes),
    challenge,
  });
  const required = asking("required", ["bearer", "dpop"], { schemes: ["DPoP"], dpopAlgorithms: ["ES256", "EdDSA"] });
  const allowed = asking("allowed", ["bearer", "dpop"], { schemes: ["Bearer", "DPoP"], dpopAlgorithms: ["ES256", "PS256"] });
  // Bearer alone (the default challenge) and nothing at all are left to the default.
  assert.equal(challengeOfAll([jwt]), undefined);
  assert.equal(challengeOfAll([keys]), undefined);
  assert.equal(challengeOfAll([jwt, keys]), undefined);
  assert.deepEqual(challengeOfAll([required]), { schemes: ["DPoP"], dpopAlgorithms: ["ES256", "EdDSA"] });
  assert.deepEqual(challengeOfAll([required, keys]), { schemes: ["DPoP"], dpopAlgorithms: ["ES256", "EdDSA"] });
  assert.deepEqual(challengeOfAll([allowed]), { schemes: ["Bearer", "DPoP"], dpopAlgorithms: ["ES256", "PS256"] });
  // Bearer first, whatever the order of the authenticators; the algorithms of every DPoP one, once each.
  const dpopOnly = asking("dpop-only", ["dpop"], { schemes: ["DPoP"], dpopAlgorithms: ["PS256", "ES256"] });
  assert.deepEqual(challengeOfAll([dpopOnly, jwt]), { schemes: ["Bearer", "DPoP"], dpopAlgorithms: ["PS256", "ES256"] });
  // Without a challenge of its own, an authenticator asks for what its schemes are.
  assert.deepEqual(challengeOfAll([make("wrapped", ["bearer", "dpop"])]), { schemes: ["Bearer", "DPoP"] });

  // The source's own refusals carry it; a refusal of a server without DPoP carries none (Bearer by default).
  const withDpop = createCredentialSource([required, keys], { maxLength: 100 });
  assert.deepEqual(withDpop.challenge, { schemes: ["DPoP"], dpopAlgorithms: ["ES256", "EdDSA"] });
  const refused: Record<string, string>[] = [
    { authorization: "Bearer a", "x-api-key": "k" },
    { authorization: "Bearer a b" },
    { authorization: "Basic YWxpY2U6cHc=" },
    { "x-api-key": "a b" },
  ];
  for (const headers of refused) {
    assert.deepEqual(denied(scanned(withDpop, new Headers(headers))).challenge, withDpop.challenge, JSON.stringify(headers));
    assert.equal(denied(scanned(source, new Headers(headers))).challenge, undefined, JSON.stringify(headers));
  }
});
