// npm start's fleet rows: two example servers on one Redis, a token revoked on instance A refused by
// instance B, on every protocol.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/core";
import { type DemoResult, exampleTransport, protocols } from "./demo-cases.js";
import { GreeterService } from "./gen/example/v1/greeter_pb.js";
import { startExampleServer } from "./server.js";

/** The fleet case: what the contract says of a token revoked on another instance. */
const revokedCase = {
  name: "token revoked on instance A, called on B",
  call: "Greet",
  expected: { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "revoked" },
} as const;

/**
 * Starts instances A (the development issuer) and B (A's tokens, through A's JWKS) on the Redis at
 * `redisUrl`, checks that B serves a token of A, revokes it on A (A's revocation list) and calls B
 * with it on each protocol once B has heard of it (within 2 s): one row per protocol.
 *
 * ```ts
 * console.log(formatTable(await runFleetDemo("redis://127.0.0.1:6379")));
 * ```
 *
 * Not checked: how long the revocation took to reach B (the propagation numbers are bench/'s).
 */
export async function runFleetDemo(redisUrl: string): Promise<DemoResult[]> {
  const a = await startExampleServer({ redis: { url: redisUrl } });
  try {
    const b = await startExampleServer({
      redis: { url: redisUrl },
      auth: { kind: "external", issuer: a.url, audience: "greeter", jwksUrl: `${a.url}/.well-known/jwks.json` },
    });
    try {
      if (a.devIssuer === undefined || a.revocations === undefined || b.revocations === undefined) {
        throw new Error("instance A has no issuer or list, or instance B no list");
      }
      const token = await a.devIssuer.mint({ subject: "mallory", scopes: ["greet"] });
      const greet = (protocol: (typeof protocols)[number]) =>
        createClient(GreeterService, exampleTransport(b.url, protocol, token)).greet({ name: "demo" });
      // Until its list has read Redis once, an instance answers REVOCATION_UNAVAILABLE (it fails closed).
      await Promise.all([a.revocations.caughtUp(), b.revocations.caughtUp()]);
      await greet("connect"); // B takes A's token before it is revoked
      await a.revocations.revoke({ issuer: a.devIssuer.issuer, subject: "mallory", before: Date.now() / 1000 + 1 });
      const results: DemoResult[] = [];
      for (const protocol of protocols) {
        const deadline = Date.now() + 2000;
        let result: DemoResult;
        for (;;) {
          result = await outcome(protocol, () => greet(protocol));
          if (result.pass || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        results.push(result);
      }
      return results;
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

async function outcome(protocol: (typeof protocols)[number], call: () => Promise<{ greeting: string }>): Promise<DemoResult> {
  try {
    const detail = (await call()).greeting;
    return {
      case: revokedCase,
      protocol,
      code: "OK",
      reason: undefined,
      reasonDetail: undefined,
      challenge: undefined,
      detail,
      pass: false,
    };
  } catch (e) {
    const error = ConnectError.from(e);
    const failure = readAuthFailure(error);
    const reasonDetail = failure?.metadata["detail"];
    return {
      case: revokedCase,
      protocol,
      code: error.code,
      reason: failure?.reason,
      reasonDetail,
      challenge: error.metadata.get("www-authenticate") ?? undefined,
      detail: error.rawMessage,
      pass:
        error.code === revokedCase.expected.code &&
        failure?.reason === revokedCase.expected.reason &&
        reasonDetail === revokedCase.expected.detail,
    };
  }
}
