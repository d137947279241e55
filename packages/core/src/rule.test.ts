import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type DescService, create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
// The test service's descriptors (proto/test/v1) carry every kind of rule.
import { GreeterService } from "./test-support/gen/test/v1/test_pb.js";
import { ShadowService } from "./test-support/gen/test/v1/shadow_pb.js";
import { createRuleResolver, isPublicMethod, requiredScopesOf, ruleOf } from "./rule.js";
import { claimAt, scopesFromClaims } from "./scopes.js";

const m = GreeterService.method;
const base = { claims: [], condition: undefined, origin: "proto", candidate: undefined };
const services = [GreeterService];

// A service without any rule in its proto, as grpc.health.v1.Health is (its shape, built at run time).
const Health = createFileRegistry(
  create(FileDescriptorSetSchema, {
    file: [
      {
        name: "grpc/health/v1/health.proto",
        package: "grpc.health.v1",
        syntax: "proto3",
        messageType: [{ name: "HealthCheckRequest" }, { name: "HealthCheckResponse" }],
        service: [
          {
            name: "Health",
            method: [
              {
                name: "Check",
                inputType: ".grpc.health.v1.HealthCheckRequest",
                outputType: ".grpc.health.v1.HealthCheckResponse",
              },
              {
                name: "Watch",
                inputType: ".grpc.health.v1.HealthCheckRequest",
                outputType: ".grpc.health.v1.HealthCheckResponse",
                serverStreaming: true,
              },
            ],
          },
        ],
      },
    ],
  }),
).getService("grpc.health.v1.Health")!;

test("rules come from the method options; an empty rule admits any authenticated caller", () => {
  assert.deepEqual({ ...ruleOf(m.greet) }, { ...base, public: false, allScopes: ["greet"], anyScopes: [], source: "method" });
  assert.deepEqual(
    { ...ruleOf(m.admin) },
    { ...base, public: false, allScopes: ["admin", "greet"], anyScopes: [], source: "method" },
  );
  assert.deepEqual({ ...ruleOf(m.ping) }, { ...base, public: true, allScopes: [], anyScopes: [], source: "method" });
  assert.deepEqual({ ...ruleOf(m.whoAmI) }, { ...base, public: false, allScopes: [], anyScopes: [], source: "method" });
});

test("a rule is resolved once and frozen", () => {
  const r = ruleOf(m.greet);
  assert.equal(ruleOf(m.greet), r);
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.allScopes) && Object.isFrozen(r.claims));
});

test("code rules: method names beat proto method rules, which beat code service rules", () => {
  const resolve = createRuleResolver({
    rules: {
      "test.v1.GreeterService": { public: true },
      "/test.v1.GreeterService/Greet": { anyScopes: ["a", "b"], claims: [{ path: "tenant", equals: "t1" }] },
    },
    services,
  });
  assert.deepEqual(
    { ...resolve(m.greet) },
    {
      public: false,
      allScopes: [],
      anyScopes: ["a", "b"],
      claims: [{ path: "tenant", equals: "t1" }],
      condition: undefined,
      source: "method",
      origin: "code",
      candidate: undefined,
    },
  );
  assert.equal(resolve(m.admin), ruleOf(m.admin), "a proto method rule beats a code service rule");
  assert.equal(resolve(m.greet), resolve(m.greet), "resolved once");
  assert.equal(createRuleResolver(), ruleOf, "no code rules: the proto resolver itself");
  assert.equal(createRuleResolver({ services }), ruleOf, "services without rules: the proto resolver itself");
});

test("malformed code rules throw TypeError at construction", () => {
  assert.throws(() => createRuleResolver({ rules: { "not a name": {} }, services }), TypeError);
  assert.throws(() => createRuleResolver({ rules: { "test.v1.GreeterService/Ping/D": {} }, services }), TypeError);
  assert.throws(() => createRuleResolver({ rules: { "test.v1.GreeterService": { allScopes: [""] } }, services }), TypeError);
  assert.throws(
    () =>
      createRuleResolver({
        rules: { "test.v1.GreeterService": { claims: [{ path: "x", equals: "1", contains: "2" } as never] } },
        services,
      }),
    /exactly one of equals, contains/,
  );
  assert.throws(
    () => createRuleResolver({ rules: { "test.v1.GreeterService": { claims: [{ path: "", equals: "1" }] } }, services }),
    TypeError,
  );
});

describe("createRuleResolver(): a code rule must name a listed service or method", () => {
  /** Asserts a TypeError that quotes the key and suggests `suggestion`. */
  const refused = (key: string, suggestion: string, list: readonly DescService[] = services) =>
    assert.throws(
      () => createRuleResolver({ rules: { [key]: { public: true } }, services: list }),
      (e: Error) => {
        assert.ok(e instanceof TypeError, `a TypeError, got ${String(e)}`);
        assert.ok(e.message.includes(`"${key}"`), `names the key: ${e.message}`);
        assert.ok(e.message.includes(`did you mean "${suggestion}"?`), `suggests ${suggestion}: ${e.message}`);
        return true;
      },
    );

  test("the JS local name, with or without a leading slash, and a case slip in the service: Ping is meant", () => {
    refused("test.v1.GreeterService/ping", "test.v1.GreeterService/Ping");
    refused("/test.v1.GreeterService/ping", "test.v1.GreeterService/Ping");
    refused("test.v1.Greeterservice/Ping", "test.v1.GreeterService/Ping");
  });

  test("a case-insensitive match comes first, then the nearest by edit distance", () => {
    refused("test.v1.GreeterService/greetStream", "test.v1.GreeterService/GreetStream");
    refused("test.v1.GreeterService/whoami", "test.v1.GreeterService/WhoAmI");
    refused("test.v1.GreeterService/Pong", "test.v1.GreeterService/Ping");
    refused("test.v1.GreeterService.Admin", "test.v1.GreeterService/Admin");
    refused("test.v1.GreterService", "test.v1.GreeterService");
    refused("GreeterService/Ping", "test.v1.GreeterService/Ping");
  });

  test("a right name still overrides the proto rule, with or without a leading slash", () => {
    for (const key of ["test.v1.GreeterService/Ping", "/test.v1.GreeterService/Ping"]) {
      const resolve = createRuleResolver({ rules: { [key]: { allScopes: ["x"] } }, services });
      assert.equal(ruleOf(m.ping).public, true, "the proto makes Ping public");
      assert.deepEqual(
        { ...resolve(m.ping) },
        { ...base, public: false, allScopes: ["x"], anyScopes: [], source: "method", origin: "code" },
      );
      assert.equal(resolve(m.greet), ruleOf(m.greet), "other methods keep their proto rule");
    }
  });

  test("a service-level key rules every method of a service without proto rules", () => {
    assert.equal(ruleOf(Health.method.check).source, "default", "no rule in its proto");
    const resolve = createRuleResolver({
      rules: { "grpc.health.v1.Health": { public: true } },
      services: [GreeterService, Health],
    });
    for (const method of Health.methods) {
      assert.deepEqual(
        { ...resolve(method) },
        {
          public: true,
          allScopes: [],
          anyScopes: [],
          claims: [],
          condition: undefined,
          source: "service",
          origin: "code",
          candidate: undefined,
        },
      );
    }
    // A method key beats the service key.
    const both = createRuleResolver({
      rules: { "grpc.health.v1.Health": { public: true }, "grpc.health.v1.Health/Watch": { allScopes: ["ops"] } },
      services: [Health],
    });
    assert.equal(both(Health.method.check).public, true);
    assert.deepEqual([...both(Health.method.watch).allScopes], ["ops"]);
    assert.equal(both(Health.method.watch).public, false);
  });

  test("a method or service of a service not listed is refused", () => {
    refused("grpc.health.v1.Health/Check", "test.v1.GreeterService");
    refused("grpc.health.v1.Health", "test.v1.GreeterService");
    refused("test.v1.GreeterService/Ping", "grpc.health.v1.Health", [Health]);
    assert.throws(
      () => createRuleResolver({ rules: { "grpc.health.v1.Health/Check": { public: true } }, services }),
      /services \(test\.v1\.GreeterService\)/,
      "the message lists the services it checked against",
    );
  });

  test("rules without services are refused: no name could be checked", () => {
    for (const list of [undefined, []]) {
      assert.throws(
        () => createRuleResolver({ rules: { "test.v1.GreeterService/Ping": { public: true } }, services: list }),
        (e: Error) => e instanceof TypeError && /rules need services/.test(e.message),
      );
    }
  });

  test("two keys for one name, and services that are not service descriptors, are refused", () => {
    assert.throws(
      () =>
        createRuleResolver({
          rules: { "test.v1.GreeterService/Ping": { public: true }, "/test.v1.GreeterService/Ping": { allScopes: ["x"] } },
          services,
        }),
      /rules "test\.v1\.GreeterService\/Ping" and "\/test\.v1\.GreeterService\/Ping" name the same method/,
    );
    assert.throws(() => createRuleResolver({ services: GreeterService as never }), /services must be an array/);
    assert.throws(() => createRuleResolver({ services: [m.ping] as never }), /services must be an array of service descriptors/);
    assert.throws(
      () => createRuleResolver({ services: [undefined] as never }),
      /services must be an array of service descriptors/,
    );
  });

  test("rules are read once, at setup: changing the object later changes nothing", () => {
    const rules: Record<string, { public?: boolean; allScopes?: string[] }> = {
      "test.v1.GreeterService/Greet": { allScopes: ["greet"] },
    };
    const resolve = createRuleResolver({ rules, services });
    rules["test.v1.GreeterService/Greet"]!.public = true;
    rules["test.v1.GreeterService/Greet"]!.allScopes!.push("more");
    rules["test.v1.GreeterService/Admin"] = { public: true };
    assert.equal(resolve(m.greet).public, false);
    assert.deepEqual([...resolve(m.greet).allScopes], ["greet"]);
    assert.equal(resolve(m.admin), ruleOf(m.admin));
  });
});

test("requiredScopesOf tells what to ask for before calling; public methods need nothing", () => {
  assert.deepEqual(requiredScopesOf(m.admin), { allScopes: ["admin", "greet"], anyScopes: [] });
  assert.deepEqual(requiredScopesOf(m.ping), { allScopes: [], anyScopes: [] });
  const resolve = createRuleResolver({ rules: { "test.v1.GreeterService/Ping": { anyScopes: ["x", "y"] } }, services });
  assert.deepEqual(requiredScopesOf(m.ping, resolve), { allScopes: [], anyScopes: ["x", "y"] });
});

test("claim paths: nested objects, whole dotted names first, nothing through arrays or scalars", () => {
  const claims = { realm_access: { roles: ["ops"] }, "https://x.example/roles": ["r"], tenant: "t1", list: [{ a: 1 }] };
  assert.deepEqual(claimAt(claims, "realm_access.roles"), ["ops"]);
  assert.deepEqual(claimAt(claims, "https://x.example/roles"), ["r"]);
  assert.equal(claimAt(claims, "tenant.x"), undefined);
  assert.equal(claimAt(claims, "list.0"), undefined);
  assert.equal(claimAt(claims, "realm_access.missing"), undefined);
  assert.equal(claimAt(claims, "toString"), undefined, "no prototype lookups");
  assert.deepEqual(
    [
      ...scopesFromClaims({ scope: "a", permissions: ["p"], realm_access: { roles: ["ops"] } }, [
        "permissions",
        "realm_access.roles",
      ]),
    ].sort(),
    ["ops", "p"],
  );
});

test("isPublicMethod agrees with ruleOf(method).public on every method", () => {
  assert.equal(isPublicMethod(m.ping), true);
  assert.equal(isPublicMethod(m.greet), false);
  for (const method of GreeterService.methods) {
    assert.equal(isPublicMethod(method), ruleOf(method).public, method.name);
  }
});

describe("candidate rules: evaluated and reported by servers, never enforced", () => {
  const shadow = ShadowService.method;
  const requirements = { public: false, allScopes: [], anyScopes: [], claims: [], condition: undefined };

  test("from the proto: a method's own candidate, the service's on methods without a rule, none when a method rule replaces it", () => {
    assert.deepEqual({ ...ruleOf(shadow.greet).candidate }, { ...requirements, allScopes: ["greet", "greet.v2"] });
    assert.deepEqual([...ruleOf(shadow.greet).allScopes], ["greet"], "the enforced rule is the rule's own fields");
    assert.deepEqual(
      { ...ruleOf(shadow.status).candidate },
      {
        ...requirements,
        allScopes: ["greet"],
        claims: [{ path: "org", equals: "acme" }],
      },
    );
    assert.equal(ruleOf(shadow.status).source, "service");
    assert.equal(ruleOf(shadow.open).candidate, undefined, "a method's rule replaces its service's, candidate included");
    assert.deepEqual({ ...ruleOf(shadow.ping).candidate }, requirements, "an empty candidate (its own candidate ignored)");
    assert.equal(ruleOf(shadow.ping).public, true);
    assert.equal(ruleOf(shadow.tenant).candidate?.condition, "request.tenant == claims.tenant");
    assert.equal(ruleOf(m.greet).candidate, undefined, "no candidate: undefined");
    const r = ruleOf(shadow.greet);
    assert.ok(Object.isFrozen(r.candidate) && Object.isFrozen(r.candidate?.allScopes) && Object.isFrozen(r.candidate?.claims));
  });

  test("the candidate never changes what a client asks for: requiredScopesOf and isPublicMethod read the enforced rule", () => {
    assert.deepEqual(requiredScopesOf(shadow.greet), { allScopes: ["greet"], anyScopes: [] });
    assert.equal(isPublicMethod(shadow.ping), true);
  });

  test("in code: a candidate beside a rule, copied and frozen; a code method rule replaces the proto's candidate", () => {
    const candidate = { allScopes: ["greet", "greet.v2"], condition: "  " };
    const resolve = createRuleResolver({
      rules: {
        "test.v1.GreeterService/Greet": { allScopes: ["greet"], candidate },
        "test.v1.ShadowService/Greet": { allScopes: ["greet"] },
      },
      services: [GreeterService, ShadowService],
    });
    candidate.allScopes.push("later");
    assert.deepEqual({ ...resolve(m.greet).candidate }, { ...requirements, allScopes: ["greet", "greet.v2"] });
    assert.equal(resolve(m.greet).candidate?.condition, undefined, "a blank condition is none");
    assert.equal(resolve(shadow.greet).candidate, undefined, "the code rule has no candidate, so the method has none");
    assert.equal(resolve(shadow.tenant), ruleOf(shadow.tenant), "other methods keep their proto rule and candidate");
  });

  test("a malformed candidate, or a candidate of a candidate, is refused at construction", () => {
    const refused = (candidate: unknown, pattern: RegExp) =>
      assert.throws(
        () => createRuleResolver({ rules: { "test.v1.GreeterService/Greet": { candidate } as never }, services }),
        (e: Error) => e instanceof TypeError && pattern.test(e.message),
      );
    refused({ allScopes: [""] }, /the scopes of the candidate of "test\.v1\.GreeterService\/Greet" must be non-empty strings/);
    refused({ claims: [{ path: "org" }] }, /a claim of the candidate of "test\.v1\.GreeterService\/Greet" needs a path/);
    refused({ candidate: { allScopes: ["x"] } }, /has a candidate of its own/);
    refused("greet.v2", /must be a rule object/);
    refused(null, /must be a rule object/);
  });
});
