// "Your own" authenticator over the wire: a session cookie read by the authenticator's extract(), and an
// opaque-token introspection whose endpoint can fail; same outcomes and error contract as the built-ins.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { Reason } from "@connectauth/core";
import { type Authenticator, accepted, createJwtAuthenticator, rejected } from "@connectauth/server";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { assertRefused, bearer, protocols, rawClient, refusal } from "../support/wire.js";

const sessions = new Map([["s3ss10n-alice-0123456789", { user: "alice", scopes: ["greet"] }]]);
let introspectionUp = true;

const sessionCookie: Authenticator = {
  name: "session",
  schemes: [],
  extract: (headers) => /(?:^|;\s*)session=([^;]+)/.exec(headers.get("cookie") ?? "")?.[1],
  async authenticate({ value }) {
    const s = sessions.get(value);
    return s
      ? accepted({ subject: s.user, scopes: new Set(s.scopes), claims: {}, authenticator: "session" })
      : rejected(Reason.InvalidToken, { message: "unknown session", detail: "unknown_session" });
  },
};

// Opaque tokens under their own scheme, checked by a (simulated) introspection endpoint.
const introspection: Authenticator = {
  name: "introspection",
  schemes: ["opaque"],
  async authenticate({ value }) {
    if (!introspectionUp) return rejected(Reason.KeysUnavailable, { detail: "introspection" });
    return value === "op4que-token-bob-987654321"
      ? accepted({ subject: "bob", scopes: new Set(["greet"]), claims: { active: true }, authenticator: "introspection" })
      : rejected(Reason.InvalidToken, { detail: "inactive" });
  },
};

let server: ExampleServer;
before(async () => {
  server = await startExampleServer({
    auth: {
      kind: "authenticators",
      authenticators: (dev) => [
        createJwtAuthenticator({ issuer: dev.issuer, audience: dev.audience, algorithms: ["ES256"], keys: dev.jwks }),
        sessionCookie,
        introspection,
      ],
    },
  });
});
after(() => server.close());

test("a session cookie is a credential; other cookies are not", async () => {
  for (const protocol of protocols) {
    const me = await rawClient(server.url, protocol, { cookie: "theme=dark; session=s3ss10n-alice-0123456789" }).whoAmI({});
    assert.deepEqual([me.subject, me.authenticator], ["alice", "session"]);
  }
  const token = await server.devIssuer!.mint({ subject: "carol", scopes: ["greet"] });
  const me = await rawClient(server.url, "grpc", { ...bearer(token), cookie: "theme=dark" }).whoAmI({});
  assert.deepEqual([me.subject, me.authenticator], ["carol", "jwt"]);
  const unknown = "s3ss10n-mallory-000000000";
  assertRefused(
    await refusal(server.url, "connect", { cookie: `session=${unknown}` }),
    { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "unknown_session" },
    [unknown],
  );
});

test("a session cookie and a bearer token together are MULTIPLE_CREDENTIALS", async () => {
  const token = await server.devIssuer!.mint({ subject: "carol", scopes: ["greet"] });
  for (const protocol of protocols) {
    const error = await refusal(server.url, protocol, { ...bearer(token), cookie: "session=s3ss10n-alice-0123456789" });
    assertRefused(
      error,
      { code: Code.Unauthenticated, reason: "MULTIPLE_CREDENTIALS" },
      [token, "s3ss10n-alice-0123456789"],
      protocol,
    );
  }
});

test("an introspection outage is KEYS_UNAVAILABLE (Unavailable), not a token fault", async () => {
  const token = "op4que-token-bob-987654321";
  const me = await rawClient(server.url, "grpc-web", { authorization: `Opaque ${token}` }).whoAmI({});
  assert.equal(me.subject, "bob");
  introspectionUp = false;
  try {
    for (const protocol of protocols) {
      const error = await refusal(server.url, protocol, { authorization: `Opaque ${token}` });
      assertRefused(error, { code: Code.Unavailable, reason: "KEYS_UNAVAILABLE", detail: "introspection" }, [token], protocol);
    }
  } finally {
    introspectionUp = true;
  }
  assertRefused(
    await refusal(server.url, "grpc", { authorization: "Opaque 0ther-token-12345678" }),
    { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "inactive" },
    ["0ther-token-12345678"],
  );
});
