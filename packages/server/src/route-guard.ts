import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { type Denial, toConnectError } from "./denial.js";

/** Says why a call may not reach its handler, or `undefined` when it may. */
export type HandlerCheck = (method: DescMethod, values: HandlerContext["values"]) => Denial | undefined;

type Handler = (request: unknown, context: HandlerContext) => unknown;

/**
 * Wraps `routes` so that the handler of every `guarded` method runs only once `check` lets it: the
 * last line of defence behind the gate and interceptor, for a router whose interceptors were changed
 * after connectauth was installed. Other methods keep their own functions (no cost per call).
 *
 * ```ts
 * connectNodeAdapter({ routes: guardRoutes(routes, (m) => authorization.readsRequest(m), check) });
 * ```
 */
export function guardRoutes(
  routes: (router: ConnectRouter) => void,
  guarded: (method: DescMethod) => boolean,
  check: HandlerCheck,
): (router: ConnectRouter) => void {
  const guard = (method: DescMethod, handler: Handler): Handler => {
    if (!guarded(method)) return handler;
    return (request, context) => {
      const denial = check(method, context.values);
      if (denial !== undefined) throw toConnectError(denial, undefined);
      return handler(request, context);
    };
  };
  const guardService = (service: DescService, implementation: Record<string, unknown>): Record<string, unknown> => {
    if (!service.methods.some(guarded)) return implementation;
    const result: Record<string, unknown> = {};
    for (const method of service.methods) {
      const handler = implementation[method.localName];
      if (typeof handler !== "function") continue;
      // Bound, as connect binds the methods of a class instance.
      result[method.localName] = guard(method, (handler as Handler).bind(implementation));
    }
    return result;
  };
  return (router) => {
    const wrapped: ConnectRouter = Object.create(router, {
      service: {
        value: (service: DescService, implementation: object, options?: object) => {
          router.service(service, guardService(service, implementation as Record<string, unknown>) as never, options);
          return wrapped;
        },
      },
      rpc: {
        value: (method: DescMethod, handler: Handler, options?: object) => {
          router.rpc(method, guard(method, handler) as never, options);
          return wrapped;
        },
      },
    });
    routes(wrapped);
  };
}
