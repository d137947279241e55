// auth.install({ routes }) guards the handlers of methods whose rule reads the request: a router whose
// interceptors were replaced after install (so connectauth's interceptor, which judges such conditions,
// is gone) refuses those calls at the handler instead of serving them unjudged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, type ConnectRouter, type Interceptor, createRouterTransport } from "@connectrpc/connect";
import { createServerAuth } from "@connectauth/server";
import { InvoiceService, LegacyService, clientOf, mint, rulesAuthenticator, rulesRoutes } from "../fixtures/rules-server.js";
import { bearer as bearerHeader, withHeaders } from "../support/wire.js";

const [reader, writer] = await Promise.all([
  mint({ scope: ["invoices.read"], tenant: "t1" }),
  mint({ scope: ["invoices.write"], tenant: "t1" }),
]);
/** Sends `token` as a Bearer token. */
const bearer = (token: string): Interceptor => withHeaders(bearerHeader(token));

function serve(router: { routes: (router: ConnectRouter) => void; interceptors?: Interceptor[] }, token: string) {
  const transport = createRouterTransport(router.routes, { router, transport: { interceptors: [bearer(token)] } });
  return clientOf(InvoiceService, transport);
}

function newAuth() {
  return createServerAuth({
    authenticators: [rulesAuthenticator()],
    authorization: { services: [InvoiceService, LegacyService] },
    onWarning: () => {},
  });
}

async function codeOf(call: Promise<unknown>): Promise<Code | "OK"> {
  try {
    await call;
    return "OK";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

test("install({ routes }): a condition over the request is judged (own tenant OK, another refused)", async () => {
  const invoices = serve(newAuth().install({ routes: rulesRoutes }), reader);
  assert.equal((await invoices["getInvoice"]!({ tenantId: "t1" })).text, "GetInvoice t1 for alice");
  assert.equal(await codeOf(invoices["getInvoice"]!({ tenantId: "t2" })), Code.PermissionDenied);
});

test("interceptors replaced after install: calls whose condition reads the request are refused at the handler", async () => {
  const installed = newAuth().install({ routes: rulesRoutes });
  const overridden = { ...installed, interceptors: [] as Interceptor[] };
  const invoices = serve(overridden, reader);
  for (const tenantId of ["t1", "t2"]) {
    await assert.rejects(invoices["getInvoice"]!({ tenantId }), (e: ConnectError) => {
      assert.equal(e.code, Code.Internal);
      assert.match(e.rawMessage, /InvoiceService\/GetInvoice over the request was not judged: auth\.interceptor is missing/);
      return true;
    });
  }
  // A client stream, as well: refused before the handler reads a message.
  const uploads = serve(overridden, writer);
  async function* own() {
    yield { tenantId: "t1" };
  }
  assert.equal(await codeOf(uploads["uploadInvoices"]!(own())), Code.Internal);
  // Methods whose rule does not read the request are served as before (the gate still ran).
  assert.equal((await invoices["listInvoices"]!({ tenantId: "t9" })).text, "ListInvoices t9 for alice");
});

test("router.rpc() routes are guarded too", async () => {
  const routes = (router: ConnectRouter) =>
    router.rpc(InvoiceService.method["getInvoice"]!, ((req: { tenantId: string }) => ({ text: `rpc ${req.tenantId}` })) as never);
  const installed = newAuth().install({ routes });
  assert.equal((await serve(installed, reader)["getInvoice"]!({ tenantId: "t1" })).text, "rpc t1");
  assert.equal(await codeOf(serve({ ...installed, interceptors: [] }, reader)["getInvoice"]!({ tenantId: "t1" })), Code.Internal);
});
