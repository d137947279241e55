// Property-based tests (fast-check): random and adversarial inputs never make the core throw anything
// but the contract's errors, and what it builds it can read back.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseAuthorization } from "./authorization-header.js";
import { readAuthFailure } from "./auth-failure.js";
import { formatChallenge, parseChallenges } from "./challenge.js";
import { scopeDifference } from "./scopes.js";

const runs = { numRuns: 2000 };
const tokenChar = fc.constantFrom(..."!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-".split(""));
const httpToken = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const b64Char = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/".split(""));
const token68 = fc
  .tuple(fc.string({ unit: b64Char, minLength: 1, maxLength: 200 }), fc.nat(2))
  .map(([s, pad]) => s + "=".repeat(pad));
// Header values as an HTTP stack may hand them over: visible ASCII, spaces, tabs, and some of everything else.
const headerText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: fc.constantFrom(...'Bearer ,="\\\t.-_~+/aZ09'.split("")), maxLength: 80 }),
  fc.tuple(httpToken, fc.constantFrom(" ", "  ", "\t", ""), fc.string({ maxLength: 100 })).map((p) => p.join("")),
);

test("parseAuthorization: any input gives a credential, nothing, or an Unauthenticated auth error", () => {
  fc.assert(
    fc.property(headerText, (header) => {
      try {
        const c = parseAuthorization(header);
        if (c !== undefined) {
          assert.match(c.scheme, /^[!#$%&'*+.^_`|~0-9a-z-]+$/);
          assert.match(c.value, /^[A-Za-z0-9\-._~+/]+=*$/);
        }
      } catch (e) {
        assert.ok(e instanceof ConnectError, "only ConnectErrors");
        assert.equal(e.code, Code.Unauthenticated);
        const reason = readAuthFailure(e)?.reason;
        assert.ok(reason === "MALFORMED_CREDENTIALS" || reason === "MULTIPLE_CREDENTIALS", String(reason));
      }
    }),
    runs,
  );
});

test("parseAuthorization: every well-formed credential is read back exactly, never echoed on error", () => {
  fc.assert(
    fc.property(httpToken, fc.integer({ min: 1, max: 3 }), token68, (scheme, spaces, value) => {
      assert.deepEqual(parseAuthorization(`${scheme}${" ".repeat(spaces)}${value}`), {
        scheme: scheme.toLowerCase(),
        value,
      });
      // The same credential with a forbidden character is refused without its text in the message.
      try {
        parseAuthorization(`${scheme} ${value}"`);
        assert.fail("a quote is not token68");
      } catch (e) {
        assert.ok(e instanceof ConnectError);
        if (value.length > 3) assert.ok(!e.message.includes(value));
      }
    }),
    runs,
  );
});

test("challenges: parse(format(c)) returns c for any scheme, names and values", () => {
  const value = fc.string({ maxLength: 40 }).filter((v) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v));
  const params = fc.dictionary(
    httpToken.map((n) => n.toLowerCase()),
    value,
    { maxKeys: 5 },
  );
  fc.assert(
    fc.property(httpToken, params, (scheme, p) => {
      const c = { scheme, params: p };
      const parsed = parseChallenges(formatChallenge(c));
      assert.equal(parsed.length, 1);
      assert.equal(parsed[0]!.scheme, scheme);
      assert.deepEqual({ ...parsed[0]!.params }, { ...p });
    }),
    runs,
  );
});

test("challenges: the parser never throws on arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (text) => {
      const parsed = parseChallenges(text);
      assert.ok(Array.isArray(parsed));
    }),
    runs,
  );
});

test("scopes: scopeDifference finds nothing missing exactly when the requirement is met", () => {
  const scope = fc.constantFrom<string>("a", "b", "c", "d", "e");
  fc.assert(
    fc.property(fc.uniqueArray(scope), fc.uniqueArray(scope), fc.uniqueArray(scope), (all, any, granted) => {
      const g = new Set(granted);
      const met = all.every((s) => g.has(s)) && (any.length === 0 || any.some((s) => g.has(s)));
      const { missing } = scopeDifference({ allScopes: all, anyScopes: any }, g);
      assert.equal(missing.length === 0, met);
      for (const s of missing) assert.ok(!g.has(s), "a granted scope is never reported missing");
    }),
    runs,
  );
});

test("rules: code method rules win, then proto method rules; random keys and rules throw only TypeError", async () => {
  const { GreeterService } = await import("./test-support/gen/test/v1/test_pb.js");
  const { createRuleResolver, ruleOf } = await import("./rule.js");
  const methods = GreeterService.methods;
  const scopeList = fc.uniqueArray(fc.constantFrom("a", "b", "c"), { maxLength: 3 });
  const ruleInit = fc.record({ public: fc.boolean(), allScopes: scopeList, anyScopes: scopeList }, { requiredKeys: [] });
  const key = fc.oneof(
    fc.constantFrom(...methods.map((m) => `test.v1.GreeterService/${m.name}`), "test.v1.GreeterService"),
    fc.string({ maxLength: 30 }),
  );
  fc.assert(
    fc.property(fc.dictionary(key, ruleInit, { maxKeys: 6 }), (rules) => {
      let resolve;
      try {
        resolve = createRuleResolver({ rules: { ...rules }, services: [GreeterService] });
      } catch (e) {
        assert.ok(e instanceof TypeError, `only TypeError, got ${String(e)}`);
        return;
      }
      for (const method of methods) {
        const own = rules[`test.v1.GreeterService/${method.name}`];
        const rule = resolve(method);
        if (own !== undefined) {
          assert.equal(rule.origin, "code");
          assert.equal(rule.public, own.public === true);
          assert.deepEqual([...rule.allScopes], own.allScopes ?? []);
          assert.deepEqual([...rule.anyScopes], own.anyScopes ?? []);
        } else {
          // Every Greeter method has a proto rule of its own, which beats any code service rule.
          assert.equal(rule, ruleOf(method));
        }
      }
    }),
    { numRuns: 500 },
  );
});
