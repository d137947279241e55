import { Code, ConnectError, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createAuthInterceptor, readAuthFailure } from "@connectauth/client";
import type { DevIssuer } from "@connectauth/node/dev";
import { GreeterService } from "./gen/example/v1/greeter_pb.js";

/** The protocols the example server speaks, with the HTTP version the demo uses for each. */
export const protocols = ["connect", "grpc", "grpc-web"] as const;
export type Protocol = (typeof protocols)[number];

/** Creates a Node transport of one protocol to the example server, with an optional token (and interceptors). */
export function exampleTransport(
  baseUrl: string,
  protocol: Protocol,
  token?: string,
  extra: readonly Interceptor[] = [],
): Transport {
  const interceptors = [...(token === undefined ? [] : [createAuthInterceptor({ token })]), ...extra];
  switch (protocol) {
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "2", interceptors });
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
  }
}

/** One demo case: a call with a credential, and what the contract says must come of it. */
export interface DemoCase {
  readonly name: string;
  readonly call: "Ping" | "Greet" | "Admin";
  /** How to get the token; `undefined` sends none. */
  readonly token?: (issuer: DevIssuer) => Promise<string>;
  readonly expected: { readonly code: Code | "OK"; readonly reason?: string };
}

/** The five cases of `npm start`. */
export const demoCases: readonly DemoCase[] = [
  { name: "public call, no token", call: "Ping", expected: { code: "OK" } },
  {
    name: "scope greet",
    call: "Greet",
    token: (i) => i.mint({ subject: "alice", scopes: ["greet"] }),
    expected: { code: "OK" },
  },
  { name: "no token", call: "Greet", expected: { code: Code.Unauthenticated, reason: "MISSING_CREDENTIALS" } },
  {
    name: "admin with only greet",
    call: "Admin",
    token: (i) => i.mint({ subject: "alice", scopes: ["greet"] }),
    expected: { code: Code.PermissionDenied, reason: "INSUFFICIENT_SCOPE" },
  },
  {
    name: "expired token",
    call: "Greet",
    token: (i) => i.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: -3600 }),
    expected: { code: Code.Unauthenticated, reason: "TOKEN_EXPIRED" },
  },
];

/** What came of one case over one protocol. */
export interface DemoResult {
  readonly case: DemoCase;
  readonly protocol: Protocol;
  readonly code: Code | "OK";
  readonly reason: string | undefined;
  readonly challenge: string | undefined;
  readonly detail: string;
  /** Whether code and reason are the expected ones. */
  readonly pass: boolean;
}

/** Runs every demo case over every protocol against a running example server. */
export async function runDemoCases(baseUrl: string, issuer: DevIssuer): Promise<DemoResult[]> {
  const results: DemoResult[] = [];
  for (const c of demoCases) {
    const token = c.token === undefined ? undefined : await c.token(issuer);
    for (const protocol of protocols) {
      const client = createClient(GreeterService, exampleTransport(baseUrl, protocol, token));
      let code: Code | "OK" = "OK";
      let reason: string | undefined;
      let challenge: string | undefined;
      let detail: string;
      try {
        const answer =
          c.call === "Ping"
            ? (await client.ping({})).message
            : c.call === "Greet"
              ? (await client.greet({ name: "demo" })).greeting
              : (await client.admin({})).message;
        detail = answer;
      } catch (e) {
        const error = ConnectError.from(e);
        const failure = readAuthFailure(error);
        code = error.code;
        reason = failure?.reason;
        challenge = error.metadata.get("www-authenticate") ?? undefined;
        detail = error.rawMessage;
      }
      const pass = code === c.expected.code && reason === c.expected.reason;
      results.push({ case: c, protocol, code, reason, challenge, detail, pass });
    }
  }
  return results;
}

/** Formats results as a plain-text table. */
export function formatTable(results: readonly DemoResult[]): string {
  const rows = results.map((r) => [
    `${r.case.call} (${r.case.name})`,
    r.protocol,
    r.code === "OK" ? "OK" : `${Code[r.code]} (${r.code})`,
    r.reason ?? "-",
    r.pass
      ? "as expected"
      : `EXPECTED ${r.case.expected.code === "OK" ? "OK" : Code[r.case.expected.code]} ${r.case.expected.reason ?? ""}`,
  ]);
  const head = ["call", "protocol", "outcome", "reason", "check"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
