// The example's browser page: runs the shared scenarios with connect-web (Connect and gRPC-web) against
// the server that served the page, and shows each call and its outcome. Its DPoP key is made here,
// non-extractable: the page can sign with it, no script can take it away.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createDpopProver } from "@connectauth/client/dpop";
import { type ScenarioResult, type ScenarioTokens, runScenarios } from "./scenarios.js";

declare global {
  interface Window {
    /** Set when every scenario ran: read by the browser test suite. */
    connectauthResults?: ScenarioResult[] | { error: string };
    /** Every line #token-state showed, in order: read by the browser test suite. */
    connectauthTokenStates?: string[];
  }
}

function showStatus(text: string): void {
  const status = document.querySelector("#status");
  if (status !== null) status.textContent = text;
}

/** Shows a scenario's token source state in #token-state (updated on each change) and keeps the line. */
function showTokenState(scenario: string, protocol: string, line: string): void {
  const shown = `${scenario} (${protocol}): ${line}`;
  window.connectauthTokenStates = [...(window.connectauthTokenStates ?? []), shown];
  const el = document.querySelector("#token-state");
  if (el !== null) el.textContent = `token source of ${shown}`;
}

async function main(): Promise<void> {
  const baseUrl = location.origin;
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const jkt = await createDpopProver({ keyPair }).jkt();
  const tokens = (await (await fetch(`/demo/tokens?jkt=${jkt}`)).json()) as ScenarioTokens & { dpopMode: string };
  const results = await runScenarios(
    (protocol, interceptors) =>
      protocol === "connect"
        ? createConnectTransport({ baseUrl, interceptors })
        : createGrpcWebTransport({ baseUrl, interceptors }),
    tokens,
    undefined,
    keyPair,
    showTokenState,
  );
  const body = document.querySelector("tbody");
  if (body === null) throw new Error("the page has no results table");
  for (const r of results) {
    const row = body.insertRow();
    for (const text of [r.scenario, r.protocol, r.outcome, r.client]) row.insertCell().textContent = text;
    row.className = r.outcome.startsWith("OK") ? "ok" : "refused";
  }
  const dpop =
    tokens.dpopMode === "off"
      ? " DPoP is off on this server (npm run serve -- --dpop allowed shows DPoP calls)."
      : ` DPoP ${tokens.dpopMode}: the DPoP calls prove a key of this page (thumbprint ${jkt}).`;
  showStatus(`${results.length} calls made from this browser.${dpop}`);
  window.connectauthResults = results;
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  showStatus(`The page failed: ${message}`);
  window.connectauthResults = { error: message };
});
