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
      const interval = Math.min(req.intervalMs, 60_000);
      for (let i = 1; i <= count; i++) {
        if (i > 1 && interval > 0 && !(await pause(interval, ctx.signal))) return;
        yield { greeting: `Hello #${i}, ${req.name || "world"}! (from ${who(ctx)})` };
      }
    },
    async greetMany(requests, ctx) {
      const names: string[] = [];
      for await (const r of requests) names.push(r.name);
      return { greeting: `Hello, ${names.join(" and ") || "nobody"}! (from ${who(ctx)})` };
    },
    async *greetChat(requests, ctx) {
      for await (const r of requests) {
        yield { greeting: `Hello, ${r.name || "world"}! (from ${who(ctx)})` };
      }
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

/** Waits `ms`, or less when the call ends (its signal aborts): whether the call is still on. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(!signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
