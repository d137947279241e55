// The client behaviours shown by the browser page and asserted by the browser suite, written once against
// a transport factory so that the same code (same generated stubs, same interceptors) runs in Chromium
// with @connectrpc/connect-web and in Node with @connectrpc/connect-node.
import { Code, ConnectError, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import {
  type ClientAuthEvent,
  type TokenInput,
  createAuthInterceptor,
  createCachedTokenSource,
  readAuthFailure,
} from "@connectauth/client";
import { GreeterService } from "../gen/example/v1/greeter_pb.js";

/** Tokens from the development issuer, handed to the page by the example server. */
export interface ScenarioTokens {
  /** Scope `greet`, valid. */
  readonly greet: string;
  /** Scope `greet`, already expired. */
  readonly expired: string;
}

/** The browser protocols (gRPC needs HTTP/2 trailers, which browsers do not expose). */
export type WebProtocol = "connect" | "grpc-web";

/** Makes a transport of one protocol to the example server with the given interceptors. */
export type TransportFactory = (protocol: WebProtocol, interceptors: Interceptor[]) => Transport;

/** One scenario's outcome, as plain text that the browser and Node results can be compared by. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly protocol: WebProtocol;
  /** `OK: <answer>` or `<Code> <reason> -> <action>`. */
  readonly outcome: string;
  /** What the client did on the way: token loads and retries. */
  readonly client: string;
}

interface Scenario {
  readonly name: string;
  /** The token the interceptor is given; `"stale-then-fresh"`: a caching source whose first token is expired. */
  readonly token: "greet" | "none" | "stale-then-fresh";
  readonly call: (client: ReturnType<typeof createClient<typeof GreeterService>>) => Promise<string>;
}

const scenarios: readonly Scenario[] = [
  { name: "public call", token: "greet", call: async (c) => (await c.ping({})).message },
  { name: "authorized call", token: "greet", call: async (c) => (await c.greet({ name: "web" })).greeting },
  { name: "no token", token: "none", call: async (c) => (await c.greet({ name: "web" })).greeting },
  { name: "missing scope", token: "greet", call: async (c) => (await c.admin({})).message },
  {
    name: "expired token refreshed and retried",
    token: "stale-then-fresh",
    call: async (c) => (await c.greet({ name: "again" })).greeting,
  },
  {
    name: "server streaming",
    token: "greet",
    call: async (c) => {
      const got: string[] = [];
      for await (const m of c.greetStream({ name: "s", count: 2 })) got.push(m.greeting);
      return got.join(" | ");
    },
  },
  {
    name: "server streaming, expired token refreshed and retried",
    token: "stale-then-fresh",
    call: async (c) => {
      const got: string[] = [];
      for await (const m of c.greetStream({ name: "s", count: 2 })) got.push(m.greeting);
      return got.join(" | ");
    },
  },
];

/**
 * Runs every scenario on every protocol and describes what happened.
 *
 * ```ts
 * const results = await runScenarios((p, interceptors) => createGrpcWebTransport({ baseUrl, interceptors }), tokens);
 * ```
 */
export async function runScenarios(
  makeTransport: TransportFactory,
  tokens: ScenarioTokens,
  protocols: readonly WebProtocol[] = ["connect", "grpc-web"],
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const protocol of protocols) {
    for (const s of scenarios) {
      let loads = 0;
      const events: ClientAuthEvent[] = [];
      let token: TokenInput | undefined;
      if (s.token === "greet") token = tokens.greet;
      if (s.token === "stale-then-fresh") {
        // The source believes the first token valid for 5 minutes; the server knows better.
        token = createCachedTokenSource({
          load: async () => ({ token: loads++ === 0 ? tokens.expired : tokens.greet, expiresIn: 300 }),
        });
      }
      const interceptors = token === undefined ? [] : [createAuthInterceptor({ token, onEvent: (e) => events.push(e) })];
      const client = createClient(GreeterService, makeTransport(protocol, interceptors));
      let outcome: string;
      try {
        outcome = `OK: ${await s.call(client)}`;
      } catch (e) {
        const error = ConnectError.from(e);
        const failure = readAuthFailure(error);
        outcome = `${Code[error.code]} ${failure?.reason ?? "(not an auth failure)"} -> ${failure?.action ?? "?"}`;
        if (failure !== undefined && failure.requiredScopes.length > 0) outcome += ` [${failure.requiredScopes.join(" ")}]`;
      }
      const retries = events.filter((e) => e.type === "retry").map((e) => (e.type === "retry" ? e.reason : ""));
      const clientSide =
        s.token === "stale-then-fresh"
          ? `loads ${loads}, retries ${retries.length} (${retries.join(",")})`
          : `retries ${retries.length}`;
      results.push({ scenario: s.name, protocol, outcome, client: clientSide });
    }
  }
  return results;
}
