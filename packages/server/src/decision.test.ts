import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { tokenHash } from "@connectauth/core";
import { type InstallMode, installModes, installed } from "../../../test/support/install-modes.js";
import { GreeterService, fixedAuthenticator as fixed, greeterClient } from "./test-support/greeter.js";
import type { DecisionEvent } from "./decision.js";
import { createServerAuth } from "./server-auth.js";

// Each mode installs exactly what it names: { requestGate }, { interceptors: [interceptor] }, or auth.install({}).
function client(mode: InstallMode, onDecision: (e: DecisionEvent) => void, authorization?: string) {
  const auth = createServerAuth({ authenticators: [fixed], onDecision });
  return greeterClient({ router: installed(auth, mode), header: authorization === undefined ? {} : { authorization } });
}

/** The events of one call, and how it ended. */
async function events(
  mode: InstallMode,
  authorization: string | undefined,
  call: (c: ReturnType<typeof client>) => Promise<unknown>,
) {
  const seen: DecisionEvent[] = [];
  const code = await call(client(mode, (e) => seen.push(e), authorization)).then(
    () => "OK" as const,
    (e: unknown) => ConnectError.from(e).code,
  );
  return { seen, code };
}

for (const mode of installModes) {
  test(`${mode}: one allowed event with subject, authenticator and token hash`, async () => {
    const { seen, code } = await events(mode, "Bearer greet-token", (c) => c.greet({}));
    assert.equal(code, "OK");
    assert.equal(seen.length, 1);
    const [e] = seen;
    assert.deepEqual(
      { ...e, durationMs: 0 },
      {
        allowed: true,
        method: "test.v1.GreeterService/Greet",
        code: undefined,
        reason: undefined,
        detail: undefined,
        authenticator: "fixed",
        subject: "user-of-greet-token",
        tokenHash: await tokenHash("greet-token"),
        dpop: false,
        durationMs: 0,
      },
    );
    assert.ok(e!.durationMs >= 0 && e!.durationMs < 1000);
  });

  test(`${mode}: one denied event per failure, with code and reason`, async () => {
    const cases = [
      {
        auth: undefined,
        call: "greet",
        code: Code.Unauthenticated,
        reason: "MISSING_CREDENTIALS",
        hash: false,
        subject: undefined,
      },
      {
        auth: "Bearer a b",
        call: "greet",
        code: Code.Unauthenticated,
        reason: "MALFORMED_CREDENTIALS",
        hash: false,
        subject: undefined,
      },
      { auth: "Bearer nope", call: "greet", code: Code.Unauthenticated, reason: "INVALID_TOKEN", hash: true, subject: undefined },
      {
        auth: "Bearer greet-token",
        call: "admin",
        code: Code.PermissionDenied,
        reason: "INSUFFICIENT_SCOPE",
        hash: true,
        subject: "user-of-greet-token",
      },
      { auth: "Bearer boom", call: "greet", code: Code.Internal, reason: undefined, hash: true, subject: undefined },
    ] as const;
    for (const k of cases) {
      const { seen, code } = await events(mode, k.auth, (c) => (k.call === "admin" ? c.admin({}) : c.greet({})));
      assert.equal(code, k.code, String(k.auth));
      assert.equal(seen.length, 1, String(k.auth));
      assert.equal(seen[0]!.allowed, false);
      assert.equal(seen[0]!.code, k.code);
      assert.equal(seen[0]!.reason, k.reason);
      assert.equal(seen[0]!.subject, k.subject);
      assert.equal(seen[0]!.tokenHash !== undefined, k.hash);
    }
    const invalid = await events(mode, "Bearer nope", (c) => c.greet({}));
    assert.equal(invalid.seen[0]!.detail, "unknown");
    assert.equal(invalid.seen[0]!.authenticator, "fixed");
    for (const method of ["greet", "ping"] as const) {
      const { seen, code } = await events(mode, "Basic dXNlcjpwYXNz", (c) => (method === "ping" ? c.ping({}) : c.greet({})));
      assert.equal(code, Code.Unauthenticated, method);
      assert.deepEqual(
        seen.map((e) => [e.allowed, e.code, e.reason, e.detail]),
        [[false, Code.Unauthenticated, "MISSING_CREDENTIALS", "unsupported_scheme"]],
        `an unsupported scheme to ${method}`,
      );
    }
  });

  test(`${mode}: an anonymous call to a public method is allowed without subject`, async () => {
    const { seen } = await events(mode, undefined, (c) => c.ping({}));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.allowed, true);
    assert.equal(seen[0]!.subject, undefined);
    assert.equal(seen[0]!.tokenHash, undefined);
  });

  test(`${mode}: a throwing listener changes nothing`, async () => {
    const allowed = client(
      mode,
      () => {
        throw new Error("listener bug");
      },
      "Bearer greet-token",
    );
    assert.equal((await allowed.greet({ name: "x" })).greeting, "hi x from user-of-greet-token");
    const denied = client(mode, () => {
      throw new Error("listener bug");
    });
    await assert.rejects(denied.greet({}), (e) => ConnectError.from(e).code === Code.Unauthenticated);
  });
}

test("a condition over the request message still makes exactly one event per call, denied when it refuses", async () => {
  for (const mode of installModes) {
    const events: DecisionEvent[] = [];
    const auth = createServerAuth({
      authenticators: [fixed],
      onDecision: (e) => events.push(e),
      authorization: {
        rules: { "test.v1.GreeterService/Greet": { allScopes: ["greet"], condition: 'request.name != "bad"' } },
        services: [GreeterService],
      },
    });
    const impl = {
      greet: (req: { name: string }) => {
        if (req.name === "fail") throw new ConnectError("the handler's own failure", Code.Aborted);
        return { greeting: "hi" };
      },
    };
    const as = (token: string) =>
      greeterClient({ router: installed(auth, mode), header: { authorization: `Bearer ${token}` }, impl });
    const client = as("greet-token");
    const seen = () => events.splice(0).map((e) => [e.allowed, e.code, e.reason, e.detail]);

    if (mode === "gate") {
      // The gate alone cannot read the request: the method is refused (Internal) whatever the message,
      // once the caller is authenticated, and never allowed.
      for (const name of ["ok", "bad", "fail"]) {
        await assert.rejects(
          client.greet({ name }),
          (e: ConnectError) => e.code === Code.Internal && /auth\.(interceptor|install)/.test(e.rawMessage),
        );
        assert.deepEqual(seen(), [[false, Code.Internal, undefined, undefined]], `${mode}: ${name}`);
      }
      await assert.rejects(as("nope").greet({ name: "ok" }), (e: ConnectError) => e.code === Code.Unauthenticated);
      assert.deepEqual(seen(), [[false, Code.Unauthenticated, "INVALID_TOKEN", "unknown"]], `${mode}: authentication first`);
    } else {
      await client.greet({ name: "ok" });
      assert.deepEqual(seen(), [[true, undefined, undefined, undefined]], mode);

      await assert.rejects(client.greet({ name: "bad" }), (e: ConnectError) => e.code === Code.PermissionDenied);
      const denied = events[0];
      assert.deepEqual(seen(), [[false, Code.PermissionDenied, "CLAIMS_REJECTED", "condition"]], mode);
      assert.equal(denied!.subject, "user-of-greet-token");

      await assert.rejects(client.greet({ name: "fail" }), (e: ConnectError) => e.code === Code.Aborted);
      assert.deepEqual(
        seen().map(([allowed]) => allowed),
        [true],
        `${mode}: the handler's own failure is not an auth denial`,
      );
    }

    await client.ping({});
    assert.equal(seen().length, 1, `${mode}: a public call has its one event at once`);
  }
});

describe("candidate rules: the event says what the candidate would have decided, and the call is decided by the rule", () => {
  const rules = {
    "test.v1.GreeterService/Greet": {
      allScopes: ["greet"],
      candidate: { allScopes: ["greet"], condition: 'request.name != "bob"' },
    },
    "test.v1.GreeterService/Admin": { allScopes: ["admin", "greet"], candidate: { allScopes: ["admin", "greet", "root"] } },
    "test.v1.GreeterService/Ping": { public: true, candidate: {} },
    "test.v1.GreeterService/GreetMany": {
      allScopes: ["greet"],
      condition: 'request.name != "blocked"',
      candidate: { allScopes: ["greet"], condition: 'request.name != "bob"' },
    },
  };
  function shadowed(mode: InstallMode, token: string | undefined) {
    const events: DecisionEvent[] = [];
    const auth = createServerAuth({
      authenticators: [fixed],
      onDecision: (e) => events.push(e),
      authorization: { rules, services: [GreeterService] },
    });
    const client = greeterClient({
      router: installed(auth, mode),
      header: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    /** The allowed flag and shadow of the events since the last look. */
    const seen = () => events.splice(0).map((e) => [e.allowed, e.shadow && { ...e.shadow }]);
    return { client, seen, events };
  }
  const would = (allowed: boolean | undefined, outcome: string, reason?: string, detail?: string) => ({
    allowed,
    reason,
    detail,
    outcome,
  });

  for (const mode of installModes) {
    test(`${mode}: scopes of the candidate, an anonymous public call, and no shadow without a candidate`, async () => {
      const greet = shadowed(mode, "greet-token");
      await assert.rejects(greet.client.admin({}), (e) => ConnectError.from(e).code === Code.PermissionDenied);
      assert.deepEqual(greet.seen(), [[false, would(false, "agrees", "INSUFFICIENT_SCOPE")]]);
      assert.equal((await greet.client.whoAmI({})).subject, "user-of-greet-token");
      assert.deepEqual(greet.seen(), [[true, undefined]]);
      assert.equal(greet.events.length, 0);
      const whoAmI = shadowed(mode, "greet-token");
      await whoAmI.client.whoAmI({});
      assert.equal("shadow" in whoAmI.events[0]!, false, "a method without a candidate: no shadow key at all");

      const admin = shadowed(mode, "admin-token");
      assert.equal((await admin.client.admin({})).message, "ok", "the candidate would deny; the rule decides");
      assert.deepEqual(admin.seen(), [[true, would(false, "disagrees", "INSUFFICIENT_SCOPE")]]);

      const anonymous = shadowed(mode, undefined);
      assert.equal((await anonymous.client.ping({})).message, "anonymous");
      assert.deepEqual(
        anonymous.seen(),
        [[true, would(false, "disagrees", "MISSING_CREDENTIALS")]],
        "it would demand a credential",
      );
      await assert.rejects(anonymous.client.greet({ name: "x" }), (e) => ConnectError.from(e).code === Code.Unauthenticated);
      assert.deepEqual(anonymous.seen(), [[false, would(false, "agrees", "MISSING_CREDENTIALS")]]);
      const invalid = shadowed(mode, "nope");
      await assert.rejects(invalid.client.ping({}), (e) => ConnectError.from(e).code === Code.Unauthenticated);
      assert.deepEqual(invalid.seen(), [[false, would(false, "agrees", "INVALID_TOKEN", "unknown")]]);
    });

    test(`${mode}: a candidate's condition over the request is judged where the rule's conditions are, in the interceptor`, async () => {
      const { client, seen } = shadowed(mode, "greet-token");
      assert.equal((await client.greet({ name: "bob" })).greeting, "hi bob from user-of-greet-token", "never enforced");
      const bob = seen();
      await client.greet({ name: "ann" });
      const ann = seen();
      if (mode === "gate") {
        // The gate alone never sees the message: what the candidate would say is not known.
        assert.deepEqual(bob, [[true, would(undefined, "unknown")]]);
        assert.deepEqual(ann, [[true, would(undefined, "unknown")]]);
      } else {
        assert.deepEqual(bob, [[true, would(false, "disagrees", "CLAIMS_REJECTED", "condition")]]);
        assert.deepEqual(ann, [[true, would(true, "agrees")]]);
      }
    });
  }

  for (const mode of ["interceptor", "install"] as const) {
    test(`${mode}: a client stream: the candidate judges the messages the rule judges, and the event comes once`, async () => {
      const { client, seen } = shadowed(mode, "greet-token");
      async function* names(...list: string[]) {
        for (const name of list) yield { name };
      }
      assert.equal((await client.greetMany(names("ann", "bob", "cy"))).greeting, "ann bob cy");
      assert.deepEqual(seen(), [[true, would(false, "disagrees", "CLAIMS_REJECTED", "condition")]]);
      assert.equal((await client.greetMany(names("ann", "cy"))).greeting, "ann cy");
      assert.deepEqual(seen(), [[true, would(true, "agrees")]]);
      await assert.rejects(
        client.greetMany(names("bob", "blocked", "ann")),
        (e) => ConnectError.from(e).code === Code.PermissionDenied,
      );
      assert.deepEqual(seen(), [[false, would(false, "agrees", "CLAIMS_REJECTED", "condition")]]);
      await assert.rejects(client.greetMany(names("ann", "blocked")), (e) => ConnectError.from(e).code === Code.PermissionDenied);
      assert.deepEqual(seen(), [[false, would(true, "disagrees")]], "the candidate allowed every message up to the refused one");
      assert.equal((await client.greetMany(names())).greeting, "");
      assert.deepEqual(seen(), [[true, would(true, "agrees")]], "no message: nothing refused, by either");
    });
  }

  test("without onDecision, a candidate changes nothing: the rule alone decides", async () => {
    for (const mode of installModes) {
      const auth = createServerAuth({ authenticators: [fixed], authorization: { rules, services: [GreeterService] } });
      const client = greeterClient({ router: installed(auth, mode), header: { authorization: "Bearer admin-token" } });
      assert.equal((await client.admin({})).message, "ok");
      if (mode !== "gate") assert.equal((await client.greet({ name: "bob" })).greeting, "hi bob from user-of-admin-token");
    }
  });
});
