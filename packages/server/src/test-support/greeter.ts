// What the server's unit suites share: an authenticator of fixed tokens (so that a suite is about the gate
// and the rules, not about JWTs) and an in-memory Greeter (the packages' own test service, proto/test/v1)
// behind any router options. Not built, not published (see the package's tsconfig and "files").
import {
  type Client,
  type ConnectRouterOptions,
  type Interceptor,
  type ServiceImpl,
  createClient,
  createRouterTransport,
} from "@connectrpc/connect";
import { type Authenticator, accepted, rejected } from "../authenticator.js";
import { getAuth } from "../identity.js";
import { GreeterService } from "./gen/test/v1/test_pb.js";

export { GreeterService };

/** The tokens {@link fixedAuthenticator} accepts, and the scopes each one grants. */
export const fixedTokens: Readonly<Record<string, readonly string[]>> = {
  "greet-token": ["greet"],
  "admin-token": ["admin", "greet"],
  "no-scope": [],
};

/**
 * A bearer authenticator named `"fixed"`: each token of {@link fixedTokens} is the subject
 * `user-of-<token>` with its scopes; `"boom"` throws (user code that fails, its text naming the token);
 * any other token is `INVALID_TOKEN`, detail `"unknown"`.
 */
export const fixedAuthenticator: Authenticator = {
  name: "fixed",
  schemes: ["bearer"],
  async authenticate({ value }) {
    if (value === "boom") throw new Error(`cannot check ${value}`);
    const scopes = fixedTokens[value];
    if (scopes === undefined) return rejected("INVALID_TOKEN", { detail: "unknown" });
    return accepted({ subject: `user-of-${value}`, scopes: new Set(scopes), claims: {}, authenticator: "fixed" });
  },
};

/**
 * Handlers of every Greeter method, each answering with what it saw of the caller (`getAuth`): `greet`
 * `"hi <name> from <subject>"`, `greetStream` the subject once, `greetMany` the names it received,
 * `whoAmI` the identity, `admin` `"ok"`, `ping` the subject or `"anonymous"`.
 */
export const greeterImpl: ServiceImpl<typeof GreeterService> = {
  greet: (req, ctx) => ({ greeting: `hi ${req.name} from ${getAuth(ctx)?.subject}` }),
  async *greetStream(_req, ctx) {
    yield { greeting: getAuth(ctx)?.subject ?? "" };
  },
  async greetMany(requests) {
    const names: string[] = [];
    for await (const r of requests) names.push(r.name);
    return { greeting: names.join(" ") };
  },
  whoAmI: (_req, ctx) => {
    const a = getAuth(ctx);
    return { subject: a?.subject ?? "", scopes: [...(a?.scopes ?? [])].sort(), authenticator: a?.authenticator ?? "" };
  },
  admin: () => ({ message: "ok" }),
  ping: (_req, ctx) => ({ message: getAuth(ctx)?.subject ?? "anonymous" }),
};

/** Options of {@link greeterClient}. */
export interface GreeterClientOptions {
  /** The router options under test, e.g. `installed(auth, mode)` of test/support/install-modes. */
  readonly router: ConnectRouterOptions;
  /** Request headers every call sends, set as they are (e.g. `{ authorization: "Bearer greet-token" }`). */
  readonly header?: Readonly<Record<string, string>>;
  /** Handlers that replace those of {@link greeterImpl}. */
  readonly impl?: Partial<ServiceImpl<typeof GreeterService>>;
}

/** A Greeter client through `createRouterTransport` (in memory, no sockets) to {@link greeterImpl}. */
export function greeterClient(options: GreeterClientOptions): Client<typeof GreeterService> {
  const header = Object.entries(options.header ?? {});
  const setHeader: Interceptor = (next) => (req) => {
    for (const [name, value] of header) req.header.set(name, value);
    return next(req);
  };
  const transport = createRouterTransport((router) => router.service(GreeterService, { ...greeterImpl, ...options.impl }), {
    router: options.router,
    transport: { interceptors: [setHeader] },
  });
  return createClient(GreeterService, transport);
}
