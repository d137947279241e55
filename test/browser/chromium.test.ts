// The browser suite: Debian's Chromium driven by playwright-core opens the example's browser page (its
// bundle: src/web/app.ts with @connectrpc/connect-web, the generated stubs and @connectauth/client), which
// runs the scenarios over Connect and gRPC-web against the example server; the outcomes must be the
// contract's, the same as in Node (node-parity.test.ts), DPoP calls from a non-extractable WebCrypto key
// included (CORS lets the DPoP header through and the DPoP-Nonce header back). Chromium is required:
// without it this FAILS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { type ExampleServer, startExampleServer } from "../../packages/example/src/server.js";
import { expectedResults, expectedTokenStates, pageServerOptions, withoutTime } from "./expected.js";

const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let server: ExampleServer;
let profile: string;
let browser: BrowserContext;
before(async () => {
  assert.ok(
    existsSync(executablePath),
    `Chromium is not installed at ${executablePath}: run \`apt-get update && apt-get install -y chromium\` ` +
      "(or set CHROMIUM_PATH). The browser suite does not skip.",
  );
  server = await startExampleServer(pageServerOptions());
  profile = await mkdtemp(join(tmpdir(), "connectauth-chromium-"));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: flags });
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
});

test("Chromium (connect-web, Connect and gRPC-web): the scenarios end as the contract says", async () => {
  const page = await browser.newPage();
  const requests: string[] = [];
  const proofs: string[] = [];
  page.on("request", (r) => {
    requests.push(r.url());
    const proof = r.headers()["dpop"];
    if (proof !== undefined) proofs.push(proof);
  });
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => window.connectauthResults !== undefined, undefined, { timeout: 20_000 });
  const results = await page.evaluate(() => window.connectauthResults);
  assert.deepEqual(results, expectedResults());
  assert.equal(await page.locator("tbody tr").count(), expectedResults().length, "the page shows every call");
  const origin = new URL(server.url).origin;
  assert.ok(
    requests.every((u) => u.startsWith(`${origin}/`)),
    "the page only talks to the example server",
  );
  assert.ok(
    requests.some((u) => u.endsWith("/example.v1.GreeterService/GreetStream")),
    "calls went over the network",
  );
  // Two DPoP scenarios, two attempts each (the nonce), on two protocols: each with its own proof.
  assert.equal(proofs.length, 8, "the proofs went over the network");
  assert.equal(new Set(proofs).size, proofs.length, "a new proof per request");
  const shown = await page.content();
  for (const proof of proofs) assert.ok(!shown.includes(proof.split(".")[1]!), "no proof on the page");
  assert.match(
    (await page.locator("#status").textContent()) ?? "",
    /DPoP allowed: the DPoP calls prove a key of this page \(thumbprint [\w-]{43}\)/,
  );
  // The caching sources' state, shown in #token-state on each change: what it showed, in order.
  const states = await page.evaluate(() => window.connectauthTokenStates);
  assert.deepEqual(states?.map(withoutTime), expectedTokenStates());
  assert.match(
    (await page.locator("#token-state").textContent()) ?? "",
    /^token source of server streaming, expired token refreshed and retried \(grpc-web\): fresh, expires \d\d:\d\d:\d\d UTC$/,
  );
  assert.ok(!(states ?? []).some((l) => l.includes(".")), "no token (a JWT has dots) in any line");
});

declare global {
  interface Window {
    connectauthResults?: unknown;
    connectauthTokenStates?: string[];
  }
}
