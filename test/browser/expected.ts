// What every scenario of packages/example/src/web/scenarios.ts must end in, per the contract: written out
// here, not computed, so that the browser and Node suites check the code rather than themselves.
import type { ScenarioResult, WebProtocol } from "../../packages/example/src/web/scenarios.js";
import type { ExampleServerOptions } from "../../packages/example/src/server.js";

const stream = "OK: Hello #1, s! (from browser-user) | Hello #2, s! (from browser-user)";
/** A DPoP call's client side: the key stays in WebCrypto; the server's nonce costs one more attempt. */
const dpopClient = "private key extractable false (export refused), proofs 2, retries 1 (USE_DPOP_NONCE)";

/**
 * The outcomes against the example server of the browser suites: DPoP allowed, with nonces
 * (`startExampleServer({ webPage: true, dpop: { mode: "allowed", nonce } })`), and a DPoP key on the page.
 */
export function expectedResults(protocols: readonly WebProtocol[] = ["connect", "grpc-web"]): ScenarioResult[] {
  return protocols.flatMap((protocol) => [
    { scenario: "public call", protocol, outcome: "OK: pong (caller: anonymous)", client: "retries 0" },
    { scenario: "authorized call", protocol, outcome: "OK: Hello, web! (from browser-user)", client: "retries 0" },
    { scenario: "no token", protocol, outcome: "Unauthenticated MISSING_CREDENTIALS -> sign_in", client: "retries 0" },
    {
      scenario: "missing scope",
      protocol,
      outcome: "PermissionDenied INSUFFICIENT_SCOPE -> consent [admin greet]",
      client: "retries 0",
    },
    {
      scenario: "expired token refreshed and retried",
      protocol,
      outcome: "OK: Hello, again! (from browser-user)",
      client: "loads 2, retries 1 (TOKEN_EXPIRED)",
    },
    { scenario: "server streaming", protocol, outcome: stream, client: "retries 0" },
    {
      scenario: "server streaming, expired token refreshed and retried",
      protocol,
      outcome: stream,
      client: "loads 2, retries 1 (TOKEN_EXPIRED)",
    },
    {
      scenario: "DPoP call, non-extractable key",
      protocol,
      outcome: "OK: Hello, dpop! (from browser-user)",
      client: dpopClient,
    },
    { scenario: "DPoP server streaming", protocol, outcome: stream, client: dpopClient },
    {
      scenario: "DPoP-bound token sent as Bearer",
      protocol,
      outcome: "Unauthenticated INVALID_TOKEN -> sign_in (dpop_bound)",
      client: "retries 0",
    },
  ]);
}

/** A token-state line with its time of day replaced by `T`, as the suites compare them. */
export const withoutTime = (line: string): string => line.replace(/\d\d:\d\d:\d\d UTC/g, "T");

/**
 * The state lines of the scenarios' caching token sources (`tokenSourceStateOf` of their interceptors,
 * worded by `describeTokenState`), times as `T`: the first token loaded, rejected by the server
 * (invalidated: `empty`), the next loaded.
 */
export function expectedTokenStates(protocols: readonly WebProtocol[] = ["connect", "grpc-web"]): string[] {
  const lines = ["empty", "refreshing", "fresh, expires T", "empty", "refreshing", "fresh, expires T"];
  return protocols.flatMap((protocol) =>
    ["expired token refreshed and retried", "server streaming, expired token refreshed and retried"].flatMap((scenario) =>
      lines.map((line) => `${scenario} (${protocol}): ${line}`),
    ),
  );
}

/** The example server of the browser suites: the page, DPoP allowed, nonces from a secret of this run. */
export function pageServerOptions(): ExampleServerOptions {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return { webPage: true, dpop: { mode: "allowed", nonce: { secret } } };
}
