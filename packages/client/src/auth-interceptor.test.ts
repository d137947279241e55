import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "@connectauth/core";
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { listenOnLoopback } from "../../../test/support/listen.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { withCallToken } from "./call-token.js";
import { readAuthFailure } from "./index.js";
import type { ClientAuthEvent } from "./client-auth-event.js";

function setup(baseUrl: string, options: Parameters<typeof createAuthInterceptor>[0]) {
  const seen: (string | null)[] = [];
  const transport = createRouterTransport(
    (router) =>
      router.service(GreeterService, {
        greet: (_req, ctx) => {
          seen.push(ctx.requestHeader.get("authorization"));
          return {};
        },
        ping: (_req, ctx) => {
          seen.push(ctx.requestHeader.get("authorization"));
          return {};
        },
      }),
    { transport: { baseUrl, interceptors: [createAuthInterceptor(options)] } },
  );
  return { client: createClient(GreeterService, transport), seen };
}

test("sends the bearer token from a string, a sync or an async function", async () => {
  for (const token of ["t1", () => "t1", async () => "t1", { getToken: async () => "t1" }]) {
    const { client, seen } = setup("https://api.test", { token });
    await client.greet({});
    assert.deepEqual(seen, ["Bearer t1"]);
  }
});

test("public methods get no credential", async () => {
  const { client, seen } = setup("https://api.test", { token: "t1" });
  await client.ping({});
  assert.deepEqual(seen, [null]);
});

test("plaintext to a remote host is refused before any request; loopback and opt-in are allowed", async () => {
  let fetched = 0;
  const { client, seen } = setup("http://api.test", {
    token: () => {
      fetched++;
      return "secret-token";
    },
  });
  await assert.rejects(client.greet({}), (e: unknown) => {
    assert.ok(e instanceof ConnectError);
    assert.equal(e.code, Code.FailedPrecondition);
    assert.match(e.message, /https:\/\/.*allowInsecureTransport/);
    assert.ok(!e.message.includes("secret-token"));
    return true;
  });
  assert.equal(fetched, 0, "no token is fetched for a refused call");
  assert.deepEqual(seen, [], "no request reached the server");
  await setup("http://127.0.0.1:9", { token: "t" }).client.greet({});
  await setup("http://api.test", { token: "t", allowInsecureTransport: true }).client.greet({});
  await setup("http://api.test", { token: "t" }).client.ping({}); // public: nothing to protect
});

test("loopback is localhost, 127.0.0.0/8 and [::1] only; the opt-in never covers other schemes", async () => {
  for (const u of ["http://localhost:1", "HTTP://127.8.9.10:80", "http://[::1]:5"]) {
    await setup(u, { token: "t" }).client.greet({});
  }
  for (const u of ["http://a.localhost", "http://localhost.evil.test", "http://127.0.0.1.evil.test", "Http://10.0.0.1"]) {
    await assert.rejects(setup(u, { token: "t" }).client.greet({}), { code: Code.FailedPrecondition }, u);
  }
  for (const u of ["ws://api.test", "ftp://api.test", "file:///x"]) {
    await assert.rejects(
      setup(u, { token: "t", allowInsecureTransport: true }).client.greet({}),
      { code: Code.FailedPrecondition },
      u,
    );
  }
});

// Tokens a source may give that are not a token68: each would reach Headers.set (which would send some
// of them trimmed or as they are, and quote others in its TypeError). Each holds "secret" to look for.
const malformed = [
  "secret\rtoken",
  "secret\ntoken",
  "secret-token\r\n",
  "secret token",
  " secret",
  "",
  "sécret",
  "secret€token",
  "secret,Bearer x",
];

/** Everything of an error an app may log: message, cause, stack, details, metadata. */
function exposed(e: ConnectError): string {
  const cause = e.cause instanceof Error ? `${e.cause.name} ${e.cause.message} ${e.cause.stack}` : String(e.cause);
  return JSON.stringify([e.message, e.rawMessage, e.stack, cause, e.findDetails(ErrorInfoSchema), [...e.metadata]]);
}

test("a token that is not a token68 is refused before anything is sent, and never quoted (over HTTP)", async () => {
  const reached: (string | undefined)[] = [];
  const adapter = connectNodeAdapter({ routes: (router) => router.service(GreeterService, { greet: () => ({}) }) });
  const listening = await listenOnLoopback(
    createServer((req, res) => {
      reached.push(req.headers.authorization);
      adapter(req, res);
    }),
  );
  try {
    const events: ClientAuthEvent[] = [];
    const clientWith = (token: () => string) =>
      createClient(
        GreeterService,
        createConnectTransport({
          baseUrl: `http://${listening.hostPort}`,
          httpVersion: "1.1",
          interceptors: [createAuthInterceptor({ token, onEvent: (e) => events.push(e) })],
        }),
      );
    for (const token of malformed) {
      await assert.rejects(clientWith(() => token).greet({}), (e: unknown) => {
        assert.ok(e instanceof ConnectError, JSON.stringify(token));
        assert.equal(e.code, Code.Unavailable);
        const failure = readAuthFailure(e);
        assert.equal(failure?.reason, "TOKEN_UNAVAILABLE");
        assert.equal(failure?.metadata["detail"], "malformed_token");
        assert.equal(failure?.action, "try_later");
        assert.doesNotMatch(exposed(e), /secret|sécret/, JSON.stringify(token));
        return true;
      });
    }
    assert.deepEqual(reached, [], "no request was sent");
    assert.deepEqual(
      new Set(events.map((e) => `${e.type} ${"reason" in e ? e.reason : ""}`)),
      new Set(["refusal TOKEN_UNAVAILABLE"]),
    );
    assert.doesNotMatch(JSON.stringify(events), /secret|sécret/);
    // Control: the same setup sends a well-formed token.
    await clientWith(() => "good-token").greet({});
    assert.deepEqual(reached, ["Bearer good-token"]);
  } finally {
    await listening.close();
  }
});

test("a source returning no string at all is refused the same way", async () => {
  for (const value of [undefined, null, 42]) {
    const { client, seen } = setup("https://api.test", { token: () => value as never });
    await assert.rejects(client.greet({}), (e: unknown) => readAuthFailure(e)?.metadata["detail"] === "malformed_token");
    assert.deepEqual(seen, [], String(value));
  }
});

test("bad options fail at creation", () => {
  assert.throws(() => createAuthInterceptor({ token: "" }), TypeError);
  assert.throws(() => createAuthInterceptor({ token: 42 as never }), TypeError);
  for (const token of malformed.filter((t) => t !== "")) {
    for (const create of [() => createAuthInterceptor({ token }), () => withCallToken(token)]) {
      assert.throws(create, (e: unknown) => e instanceof TypeError && !/secret|sécret/.test(e.message), JSON.stringify(token));
    }
  }
});
