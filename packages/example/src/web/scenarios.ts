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
  tokenSourceStateOf,
} from "@connectauth/client";
import { createDpopProver } from "@connectauth/client/dpop";
import { GreeterService } from "../gen/example/v1/greeter_pb.js";
import { describeTokenState } from "./token-state.js";

/** Tokens from the development issuer, handed to the page by the example server. */
export interface ScenarioTokens {
  /** Scope `greet`, valid. */
  readonly greet: string;
  /** Scope `greet`, already expired. */
  readonly expired: string;
  /** Scope `greet`, bound to the page's DPoP key (`cnf.jkt`); absent when the server has DPoP off. */
  readonly dpop?: string;
}

/** The browser protocols (gRPC needs HTTP/2 trailers, which browsers do not expose). */
export type WebProtocol = "connect" | "grpc-web";

/** Makes a transport of one protocol to the example server with the given interceptors. */
export type TransportFactory = (protocol: WebProtocol, interceptors: Interceptor[]) => Transport;

/**
 * Receives each line of the state of a scenario's caching token source (as `describeTokenState` words
 * it), the first when the interceptor is made, then one per change.
 */
export type TokenStateListener = (scenario: string, protocol: WebProtocol, line: string) => void;

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
  /**
   * The token the interceptor is given; `"stale-then-fresh"`: a caching source whose first token is
   * expired; `"dpop"`: the bound token, with a prover of the page's key; `"dpop as bearer"`: the bound
   * token without it (as a thief without the key would send it).
   */
  readonly token: "greet" | "none" | "stale-then-fresh" | "dpop" | "dpop as bearer";
  readonly call: (client: ReturnType<typeof createClient<typeof GreeterService>>) => Promise<string>;
}

const greetStream = async (c: ReturnType<typeof createClient<typeof GreeterService>>) => {
  const got: string[] = [];
  for await (const m of c.greetStream({ name: "s", count: 2 })) got.push(m.greeting);
  return got.join(" | ");
};

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
  { name: "server streaming", token: "greet", call: greetStream },
  { name: "server streaming, expired token refreshed and retried", token: "stale-then-fresh", call: greetStream },
];

/** The DPoP scenarios, run when the server has DPoP on and the page has a key. */
const dpopScenarios: readonly Scenario[] = [
  { name: "DPoP call, non-extractable key", token: "dpop", call: async (c) => (await c.greet({ name: "dpop" })).greeting },
  { name: "DPoP server streaming", token: "dpop", call: greetStream },
  {
    name: "DPoP-bound token sent as Bearer",
    token: "dpop as bearer",
    call: async (c) => (await c.greet({ name: "x" })).greeting,
  },
];

/** Counts the DPoP proofs sent: behind the auth interceptor, nearer the transport (never keeps one). */
const proofCounter =
  (count: { proofs: number }): Interceptor =>
  (next) =>
  (req) => {
    if (req.header.get("dpop") !== null) count.proofs++;
    return next(req);
  };

/** What the page's DPoP key is: whether its private key can leave WebCrypto (it must not). */
async function keyFacts(keyPair: CryptoKeyPair): Promise<string> {
  const exported = await crypto.subtle.exportKey("jwk", keyPair.privateKey).then(
    () => "exported",
    () => "export refused",
  );
  return `private key extractable ${keyPair.privateKey.extractable} (${exported})`;
}

/**
 * Runs every scenario on every protocol and describes what happened; with a DPoP key pair and a token
 * bound to it (`tokens.dpop`), the DPoP scenarios too (a prover of that key per scenario, so each
 * meets the server's nonce, when it has one, afresh).
 *
 * ```ts
 * const results = await runScenarios((p, interceptors) => createGrpcWebTransport({ baseUrl, interceptors }), tokens);
 * ```
 *
 * `onTokenState` gets the state lines of the caching token sources (`tokenSourceStateOf` of their
 * interceptors).
 */
export async function runScenarios(
  makeTransport: TransportFactory,
  tokens: ScenarioTokens,
  protocols: readonly WebProtocol[] = ["connect", "grpc-web"],
  dpopKeyPair?: CryptoKeyPair,
  onTokenState?: TokenStateListener,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const withDpop = dpopKeyPair !== undefined && tokens.dpop !== undefined;
  const key = withDpop ? await keyFacts(dpopKeyPair) : "";
  for (const protocol of protocols) {
    for (const s of withDpop ? [...scenarios, ...dpopScenarios] : scenarios) {
      let loads = 0;
      const events: ClientAuthEvent[] = [];
      const count = { proofs: 0 };
      let token: TokenInput | undefined;
      if (s.token === "greet") token = tokens.greet;
      if (s.token === "dpop" || s.token === "dpop as bearer") token = tokens.dpop;
      if (s.token === "stale-then-fresh") {
        // The source believes the first token valid for 5 minutes; the server knows better.
        token = createCachedTokenSource({
          load: async () => ({ token: loads++ === 0 ? tokens.expired : tokens.greet, expiresIn: 300 }),
        });
      }
      const dpop = s.token === "dpop" && dpopKeyPair !== undefined ? createDpopProver({ keyPair: dpopKeyPair }) : undefined;
      const auth = token === undefined ? undefined : createAuthInterceptor({ token, dpop, onEvent: (e) => events.push(e) });
      const state = auth === undefined ? undefined : tokenSourceStateOf(auth);
      if (state !== undefined && onTokenState !== undefined) {
        const show = (line: string) => onTokenState(s.name, protocol, line);
        show(describeTokenState(state.state()));
        state.onStateChange((st) => show(describeTokenState(st)));
      }
      const interceptors = auth === undefined ? [] : [auth, proofCounter(count)];
      const client = createClient(GreeterService, makeTransport(protocol, interceptors));
      let outcome: string;
      try {
        outcome = `OK: ${await s.call(client)}`;
      } catch (e) {
        const error = ConnectError.from(e);
        const failure = readAuthFailure(error);
        outcome = `${Code[error.code]} ${failure?.reason ?? "(not an auth failure)"} -> ${failure?.action ?? "?"}`;
        if (s.token.startsWith("dpop") && failure?.metadata["detail"] !== undefined)
          outcome += ` (${failure.metadata["detail"]})`;
        if (failure !== undefined && failure.requiredScopes.length > 0) outcome += ` [${failure.requiredScopes.join(" ")}]`;
      }
      const retries = events.filter((e) => e.type === "retry").map((e) => (e.type === "retry" ? e.reason : ""));
      const retried = `retries ${retries.length}${retries.length > 0 && s.token !== "stale-then-fresh" ? ` (${retries.join(",")})` : ""}`;
      const clientSide =
        s.token === "stale-then-fresh"
          ? `loads ${loads}, retries ${retries.length} (${retries.join(",")})`
          : s.token === "dpop"
            ? `${key}, proofs ${count.proofs}, ${retried}`
            : retried;
      results.push({ scenario: s.name, protocol, outcome, client: clientSide });
    }
  }
  return results;
}
