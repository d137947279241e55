import { suite, test } from "node:test";
import assert from "node:assert/strict";
import { installModes, installed } from "../../../test/support/install-modes.js";
import { failure } from "../../../test/support/failure.js";
import { greeterClient } from "./test-support/greeter.js";
import { testIssuer } from "./test-support/issuer.js";
import { type Authenticator, accepted, rejected } from "./authenticator.js";
import { checksCredentialSyntax } from "./credential-syntax.js";
import { createJwtAuthenticator } from "./jwt-authenticator.js";
import { createServerAuth } from "./server-auth.js";

const { issuer, audience, jwk, mint } = await testIssuer();
const keys = { keys: [jwk] };
const token = await mint({ scope: "greet" });
const jwt = (options: { cache?: false; dpop?: "allowed" } = {}) =>
  createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys, ...options });

// Not token68s (RFC 6750 §2.1): two joined values, a space, punctuation, quotes, a tab, non-ASCII.
const notToken68 = ["a, Bearer b", "a b", "a;b", '"a"', "a\tb", "t\u00f6k", `${token} x`];

/** An authenticate that records every value it is given before handing it to `inner`. */
function recording(inner: Authenticator["authenticate"], seen: string[]): Authenticator["authenticate"] {
  return (credentials, call) => {
    seen.push(credentials.value);
    return inner(credentials, call);
  };
}

suite("credentials that are not a token68", () => {
  for (const mode of installModes) {
    test(`${mode}: are refused alike whoever takes them, and reach no code but connectauth's`, async () => {
      const seen: string[] = [];
      const user: Authenticator = {
        name: "user",
        schemes: ["bearer"],
        authenticate: recording(
          async ({ value }) =>
            value === token
              ? accepted({ subject: "alice", scopes: new Set(), claims: {}, authenticator: "user" })
              : rejected("INVALID_TOKEN"),
          seen,
        ),
      };
      const patched = jwt();
      patched.authenticate = recording(patched.authenticate, seen);
      const copied = { ...jwt(), name: "user" };
      const setups: [string, Authenticator][] = [
        ["a user authenticator", user],
        ["the JWT authenticator", { ...jwt(), name: "user" }],
        ["the JWT authenticator without a cache", { ...jwt({ cache: false }), name: "user" }],
        ["the JWT authenticator patched in place", Object.assign(patched, { name: "user" })],
        ["a copy of the JWT authenticator", copied],
      ];
      const refusals = new Map<string, unknown>();
      for (const [what, authenticator] of setups) {
        const auth = createServerAuth({ authenticators: [authenticator], realm: "test" });
        const router = installed(auth, mode);
        // A good token first, twice (the second time from the cache), then each bad one, twice.
        for (let i = 0; i < 2; i++) {
          const ok = await greeterClient({ router, header: { authorization: `Bearer ${token}` } }).whoAmI({});
          assert.equal(ok.subject, "alice", what);
        }
        for (const value of notToken68) {
          for (let i = 0; i < 2; i++) {
            const f = await failure(greeterClient({ router, header: { authorization: `Bearer ${value}` } }).whoAmI({}));
            const seenByCaller = { code: f.code, message: f.error.rawMessage, failure: f.failure, challenge: f.wwwAuthenticate };
            const first = refusals.get(value);
            if (first === undefined) refusals.set(value, seenByCaller);
            else assert.deepEqual(seenByCaller, first, `${what}: ${JSON.stringify(value)}`);
          }
        }
      }
      assert.deepEqual(
        [...refusals.values()].map((r) => (r as { failure?: { reason: string } }).failure?.reason),
        ["MULTIPLE_CREDENTIALS", ...notToken68.slice(1).map(() => "MALFORMED_CREDENTIALS")],
      );
      // The recording authenticators saw the good token, never a bad one.
      assert.ok(seen.length >= 4);
      assert.deepEqual(new Set(seen), new Set([token]));
    });
  }

  test("the JWT authenticator checks them itself, on its own and with DPoP, cached or not", async () => {
    for (const authenticator of [jwt(), jwt({ cache: false }), jwt({ dpop: "allowed" })]) {
      assert.equal(checksCredentialSyntax(authenticator.authenticate), true);
      assert.equal(checksCredentialSyntax({ ...authenticator }.authenticate), true, "a copy keeps its authenticate");
      assert.equal((await authenticator.authenticate({ scheme: "bearer", value: token })).ok, true);
      for (const value of notToken68) {
        const outcome = await authenticator.authenticate({ scheme: "bearer", value });
        assert.equal(outcome.ok ? "accepted" : outcome.reason, "MALFORMED_CREDENTIALS", JSON.stringify(value));
      }
    }
    const patched = jwt();
    patched.authenticate = recording(patched.authenticate, []);
    assert.equal(checksCredentialSyntax(patched.authenticate), false, "a function of the user's is not trusted to");
  });
});
