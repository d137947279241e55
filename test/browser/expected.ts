// What every scenario of packages/example/src/web/scenarios.ts must end in, per the contract: written out
// here, not computed, so that the browser and Node suites check the code rather than themselves.
import type { ScenarioResult, WebProtocol } from "../../packages/example/src/web/scenarios.js";

const stream = "OK: Hello #1, s! (from browser-user) | Hello #2, s! (from browser-user)";

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
  ]);
}
