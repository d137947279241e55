// Authorization rules over the wire: a real server on 127.0.0.1 (HTTP/2 cleartext), the fixture services
// of test/fixtures/rules (every kind of rule), tokens signed by a test key.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { createServerAuth } from "@connectauth/server";
import {
  InvoiceService,
  LegacyService,
  type RulesServer,
  clientOf,
  mint,
  received,
  startRulesServer,
} from "../fixtures/rules-server.js";
import { failure } from "../support/failure.js";

let strict: RulesServer; // deny by default, custom scope claims, one code rule
let lenient: RulesServer; // unruled methods admit authenticated callers, default scope claims, code rules
before(async () => {
  strict = await startRulesServer({
    realm: "invoices",
    scopeClaims: ["scope", "permissions", "realm_access.roles"],
    authorization: {
      services: [InvoiceService, LegacyService],
      rules: { "fixtures.rules.v1.LegacyService/Status": { public: true } },
    },
  });
  lenient = await startRulesServer({
    authorization: {
      unruled: "authenticated",
      services: [InvoiceService, LegacyService],
      rules: {
        "fixtures.rules.v1.InvoiceService/ApproveInvoice": { public: true },
        "fixtures.rules.v1.InvoiceService": { anyScopes: ["never.granted"] },
      },
    },
  });
});
after(async () => {
  await strict.close();
  await lenient.close();
});

const invoices = (server: RulesServer, token?: string, protocol?: "connect" | "grpc") =>
  clientOf(InvoiceService, server.transport(token, protocol));
const legacy = (server: RulesServer, token?: string) => clientOf(LegacyService, server.transport(token));

/** The auth failure of a denied call, which must carry connectauth's ErrorInfo, and its challenge as received. */
async function denied(call: Promise<unknown>) {
  const { error, failure: f, wwwAuthenticate } = await failure(call, "expected the call to be denied");
  assert.ok(f, `expected an auth failure, got ${error.code} ${error.rawMessage}`);
  return { ...f, www: wwwAuthenticate };
}

test("all-of: every scope is needed; the challenge and ErrorInfo name them", async () => {
  const one = await mint({ scope: ["invoices.write"] });
  const f = await denied(invoices(strict, one).deleteInvoice({ tenantId: "t1" }));
  assert.equal(f.code, Code.PermissionDenied);
  assert.equal(f.reason, "INSUFFICIENT_SCOPE");
  assert.deepEqual(f.requiredScopes, ["invoices.write", "invoices.delete"]);
  assert.equal(f.metadata["missing_scopes"], "invoices.delete");
  assert.equal(f.www, 'Bearer realm="invoices", error="insufficient_scope", scope="invoices.write invoices.delete"');
  const both = await mint({ scope: ["invoices.write", "invoices.delete"] });
  assert.equal((await invoices(strict, both).deleteInvoice({ tenantId: "t1" })).text, "DeleteInvoice t1 for alice");
});

test("any-of: one of the scopes suffices; with none, all of them are required", async () => {
  for (const scope of ["approver", "admin"]) {
    const token = await mint({ scope: [scope] });
    assert.match((await invoices(strict, token).approveInvoice({})).text, /^ApproveInvoice/);
  }
  const f = await denied(invoices(strict, await mint({ scope: ["invoices.read"] })).approveInvoice({}));
  assert.equal(f.reason, "INSUFFICIENT_SCOPE");
  assert.deepEqual(f.requiredScopes, ["approver", "admin"]);
});

test("claims: equal to a value and containing one (array or space-delimited string)", async () => {
  const ok1 = await mint({ org: "acme", groups: ["staff", "auditors"] });
  const ok2 = await mint({ org: "acme", groups: "staff auditors" });
  for (const t of [ok1, ok2]) assert.match((await invoices(strict, t).auditInvoices({})).text, /^AuditInvoices/);
  const wrongOrg = await denied(invoices(strict, await mint({ org: "evil", groups: ["auditors"] })).auditInvoices({}));
  assert.equal(wrongOrg.code, Code.PermissionDenied);
  assert.equal(wrongOrg.reason, "CLAIMS_REJECTED");
  assert.deepEqual([wrongOrg.metadata["detail"], wrongOrg.metadata["claim"]], ["claim", "org"]);
  assert.equal(wrongOrg.challenge?.params["error"], "insufficient_scope");
  const noGroup = await denied(invoices(strict, await mint({ org: "acme", groups: ["auditorsx"] })).auditInvoices({}));
  assert.equal(noGroup.metadata["claim"], "groups");
  const nested = await denied(invoices(strict, await mint({ org: { name: "acme" }, groups: ["auditors"] })).auditInvoices({}));
  assert.equal(nested.metadata["claim"], "org", "an object never equals a string");
});

test("a condition over a request field, unary: the tenant of the request must be the caller's", async () => {
  const t1 = await mint({ scope: ["invoices.read"], tenant: "t1" });
  assert.equal((await invoices(strict, t1).getInvoice({ tenantId: "t1" })).text, "GetInvoice t1 for alice");
  const other = await denied(invoices(strict, t1).getInvoice({ tenantId: "t2" }));
  assert.equal(other.code, Code.PermissionDenied);
  assert.deepEqual([other.reason, other.metadata["detail"]], ["CLAIMS_REJECTED", "condition"]);
  assert.deepEqual(other.requiredScopes, ["invoices.read"]);
  // No tenant claim: the expression fails at run time, and that denies.
  const noTenant = await denied(invoices(strict, await mint({ scope: ["invoices.read"] })).getInvoice({ tenantId: "t1" }));
  assert.deepEqual([noTenant.reason, noTenant.metadata["detail"]], ["CLAIMS_REJECTED", "condition_error"]);
  // The scope check still comes first.
  const noScope = await denied(invoices(strict, await mint({ tenant: "t1" })).getInvoice({ tenantId: "t1" }));
  assert.equal(noScope.reason, "INSUFFICIENT_SCOPE");
});

for (const protocol of ["connect", "grpc"] as const) {
  test(`a condition over request fields, client streaming (${protocol}): checked for each message`, async () => {
    const t1 = await mint({ scope: ["invoices.write"], tenant: "t1" });
    async function* upload(...tenants: string[]) {
      for (const tenantId of tenants) yield { tenantId };
    }
    const client = invoices(strict, t1, protocol) as unknown as {
      uploadInvoices(input: AsyncIterable<{ tenantId: string }>): Promise<{ text: string }>;
    };
    received.length = 0;
    assert.equal((await client.uploadInvoices(upload("t1", "t1", "t1"))).text, "UploadInvoices 3");
    assert.deepEqual(received, ["t1", "t1", "t1"]);
    received.length = 0;
    const f = await denied(client.uploadInvoices(upload("t1", "t2", "t1")));
    assert.equal(f.code, Code.PermissionDenied);
    assert.deepEqual([f.reason, f.metadata["detail"]], ["CLAIMS_REJECTED", "condition"]);
    assert.deepEqual(received, ["t1"], "the handler never sees the message that broke the condition");
  });
}

test("a condition over the identity only runs in the gate, before the body is read", async () => {
  const beta = await mint({ scope: ["invoices.read"], beta: true });
  assert.match((await invoices(strict, beta).betaInvoices({})).text, /^BetaInvoices/);
  const off = await denied(invoices(strict, await mint({ scope: ["invoices.read"], beta: false })).betaInvoices({}));
  assert.equal(off.metadata["detail"], "condition");
  const missing = await denied(invoices(strict, await mint({ scope: ["invoices.read"] })).betaInvoices({}));
  assert.equal(missing.metadata["detail"], "condition_error");
  // A body that is not even JSON: the gate answers 403 before anyone parses it; a condition over the
  // request must parse it first, so the same body to GetInvoice is a 400.
  const off2 = await mint({ scope: ["invoices.read"], beta: false, tenant: "t1" });
  assert.equal(await rawStatus(strict.url, "/fixtures.rules.v1.InvoiceService/BetaInvoices", off2), 403);
  assert.equal(await rawStatus(strict.url, "/fixtures.rules.v1.InvoiceService/GetInvoice", off2), 400);
});

test("service defaults apply to methods without a rule; a method rule replaces the default as a whole", async () => {
  const read = await mint({ scope: ["invoices.read"] });
  assert.match((await invoices(strict, read).listInvoices({ tenantId: "t9" })).text, /^ListInvoices t9/);
  const none = await denied(invoices(strict, await mint({ scope: ["other"] })).listInvoices({}));
  assert.deepEqual([none.reason, none.requiredScopes], ["INSUFFICIENT_SCOPE", ["invoices.read"]]);
  // DeleteInvoice's own rule does not include the service's "invoices.read".
  const writer = await mint({ scope: ["invoices.write", "invoices.delete"] });
  assert.match((await invoices(strict, writer).deleteInvoice({})).text, /^DeleteInvoice/);
});

test("deny by default: a method without any rule is PermissionDenied after authentication", async () => {
  const token = await mint({ scope: ["invoices.read", "admin"] });
  const f = await denied(legacy(strict, token).fetch({}));
  assert.equal(f.code, Code.PermissionDenied);
  assert.deepEqual([f.reason, f.metadata["detail"]], ["CLAIMS_REJECTED", "no_rule"]);
  assert.equal(f.www, 'Bearer realm="invoices", error="insufficient_scope"');
  // Authentication comes first: no credential is still MISSING_CREDENTIALS, a bad one a token reason.
  assert.equal((await denied(legacy(strict).fetch({}))).reason, "MISSING_CREDENTIALS");
  assert.equal((await denied(legacy(strict, `${token.slice(0, -4)}AAAA`).fetch({}))).reason, "INVALID_TOKEN");
  // Configured otherwise, any authenticated caller gets in (but not an anonymous one).
  assert.equal((await legacy(lenient, token).fetch({ tenantId: "x" })).text, "Fetch x for alice");
  assert.equal((await denied(legacy(lenient).fetch({}))).reason, "MISSING_CREDENTIALS");
});

test("code rules: a method of a service without rules made public; a proto rule overridden", async () => {
  assert.equal((await legacy(strict).status({})).text, "Status  for anonymous");
  // On the lenient server, code makes ApproveInvoice public (its proto rule wants approver or admin) ...
  assert.match((await invoices(lenient).approveInvoice({})).text, /for anonymous$/);
  // ... and a code service rule replaces the proto service rule, but not the proto method rules.
  const read = await mint({ scope: ["invoices.read"] });
  const f = await denied(invoices(lenient, read).listInvoices({}));
  assert.deepEqual(f.requiredScopes, ["never.granted"]);
  assert.match(
    (await invoices(lenient, await mint({ scope: ["invoices.read"], tenant: "t1" })).getInvoice({ tenantId: "t1" })).text,
    /^GetInvoice/,
  );
});

test("custom scope claims: permissions and realm_access.roles count as scopes where configured", async () => {
  const perms = await mint({ permissions: ["invoices.read"] });
  assert.match((await invoices(strict, perms).listInvoices({})).text, /^ListInvoices/);
  const roles = await mint({ realm_access: { roles: ["invoices.write", "invoices.delete"] } });
  assert.match((await invoices(strict, roles).deleteInvoice({})).text, /^DeleteInvoice/);
  // With the default claims (scope, scp) the same token grants nothing.
  const lenientRead = await denied(invoices(lenient, perms).getInvoice({ tenantId: "t1" }));
  assert.equal(lenientRead.reason, "INSUFFICIENT_SCOPE");
});

describe("conditions that do not compile fail at server start, naming the method", () => {
  test("a syntax error in a code rule", () => {
    assert.throws(
      () =>
        setup({
          services: [InvoiceService],
          rules: { "fixtures.rules.v1.InvoiceService/GetInvoice": { condition: "claims.tenant ==" } },
        }),
      (e: Error) => e instanceof TypeError && e.message.includes('"fixtures.rules.v1.InvoiceService/GetInvoice"'),
    );
  });
  test("an unknown request field, with the services listed", () => {
    assert.throws(
      () =>
        setup({
          services: [InvoiceService],
          rules: { "fixtures.rules.v1.InvoiceService/ListInvoices": { condition: "request.tenant == claims.tenant" } },
        }),
      /the condition of fixtures\.rules\.v1\.InvoiceService\/ListInvoices does not compile: fixtures\.rules\.v1\.TenantRequest has no field "tenant"/,
    );
  });
  test("an unknown identifier", () => {
    assert.throws(
      () => setup({ services: [LegacyService], rules: { "fixtures.rules.v1.LegacyService": { condition: "claim.x == 1" } } }),
      /unknown identifier "claim"/,
    );
  });
  test("a bad option is a TypeError too", () => {
    assert.throws(() => setup({ unruled: "maybe" as never }), /unruled must be/);
  });
  test("the proto's own conditions compile", () => {
    assert.doesNotThrow(() => setup({ services: [InvoiceService, LegacyService] }));
  });
});

function setup(authorization: NonNullable<Parameters<typeof createServerAuth>[0]["authorization"]>) {
  return createServerAuth({
    authenticators: [{ name: "none", schemes: ["bearer"], authenticate: () => Promise.reject(new Error("unused")) }],
    authorization,
  });
}

/** A Connect unary POST with a body that is not JSON, over a raw HTTP/2 session; resolves to the status. */
function rawStatus(url: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
    });
    req.on("response", (headers) => {
      resolve(Number(headers[":status"]));
      req.resume();
      req.on("end", () => session.close());
    });
    req.on("error", reject);
    req.end("{not json");
  });
}
