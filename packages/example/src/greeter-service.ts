import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { getAuth } from "@connectauth/server";
import { GreeterService } from "./gen/example/v1/greeter_pb.js";

function who(ctx: HandlerContext): string {
  return getAuth(ctx)?.subject ?? "anonymous";
}

/**
 * The Greeter service. Its auth rules live in greeter.proto; the handlers only read who is calling.
 */
export function greeterRoutes(router: ConnectRouter): void {
  router.service(GreeterService, {
    greet(req, ctx) {
      return { greeting: `Hello, ${req.name || "world"}! (from ${who(ctx)})` };
    },
    async *greetStream(req, ctx) {
      const count = req.count === 0 ? 3 : Math.min(req.count, 100);
      for (let i = 1; i <= count; i++) {
        yield { greeting: `Hello #${i}, ${req.name || "world"}! (from ${who(ctx)})` };
      }
    },
    async greetMany(requests, ctx) {
      const names: string[] = [];
      for await (const r of requests) names.push(r.name);
      return { greeting: `Hello, ${names.join(" and ") || "nobody"}! (from ${who(ctx)})` };
    },
    whoAmI(_req, ctx) {
      const auth = getAuth(ctx);
      return {
        subject: auth?.subject ?? "",
        scopes: [...(auth?.scopes ?? [])].sort(),
        authenticator: auth?.authenticator ?? "",
      };
    },
    admin(_req, ctx) {
      return { message: `Welcome to the admin area, ${who(ctx)}.` };
    },
    ping(_req, ctx) {
      return { message: `pong (caller: ${who(ctx)})` };
    },
  });
}
