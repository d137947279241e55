import { Code, ConnectError, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createAuthInterceptor, readAuthFailure } from "@connectauth/client";
import { type DpopProver, createDpopProver } from "@connectauth/client/dpop";
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

/**
 * How a case sends its token: `"bearer"` (the default), `"dpop"` (with a new proof of the demo's key
 * per call), `"replayed proof"` (a bound token with a proof already used: the call is made twice with
 * the same proof, the second is the result) or `"as bearer"` (a bound token sent as Bearer, as a thief
 * without the key would).
 */
export type DemoSending = "bearer" | "dpop" | "replayed proof" | "as bearer";

/** One demo case: a call with a credential, and what the contract says must come of it. */
export interface DemoCase {
  readonly name: string;
  readonly call: "Ping" | "Greet" | "Admin";
  /** How to get the token (`jkt`: the thumbprint of the demo's DPoP key); `undefined` sends none. */
  readonly token?: (issuer: DevIssuer, jkt: string) => Promise<string>;
  /** Default `"bearer"`. */
  readonly send?: DemoSending;
  readonly expected: { readonly code: Code | "OK"; readonly reason?: string; readonly detail?: string };
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

/** The DPoP cases of `npm start`, for a server that allows DPoP (`startExampleServer({ dpop: "allowed" })`). */
export const dpopDemoCases: readonly DemoCase[] = [
  {
    name: "DPoP-bound token, new proof",
    call: "Greet",
    token: (i, jkt) => i.mint({ subject: "alice", scopes: ["greet"], jkt }),
    send: "dpop",
    expected: { code: "OK" },
  },
  {
    name: "DPoP proof replayed",
    call: "Greet",
    token: (i, jkt) => i.mint({ subject: "alice", scopes: ["greet"], jkt }),
    send: "replayed proof",
    expected: { code: Code.Unauthenticated, reason: "INVALID_DPOP_PROOF", detail: "jti_replay" },
  },
  {
    name: "stolen DPoP-bound token as Bearer",
    call: "Greet",
    token: (i, jkt) => i.mint({ subject: "alice", scopes: ["greet"], jkt }),
    send: "as bearer",
    expected: { code: Code.Unauthenticated, reason: "INVALID_TOKEN", detail: "dpop_bound" },
  },
];

/** What came of one case over one protocol. */
export interface DemoResult {
  readonly case: DemoCase;
  readonly protocol: Protocol;
  readonly code: Code | "OK";
  readonly reason: string | undefined;
  /** The `detail` word of the failure's metadata, when it has one. */
  readonly reasonDetail: string | undefined;
  readonly challenge: string | undefined;
  readonly detail: string;
  /** Whether code, reason and (when expected) the detail word are the expected ones. */
  readonly pass: boolean;
}

/**
 * Runs demo cases (default {@link demoCases}) over every protocol against a running example server;
 * the DPoP cases prove with one non-extractable P-256 key, made here.
 *
 * ```ts
 * const results = await runDemoCases(server.url, server.devIssuer, [...demoCases, ...dpopDemoCases]);
 * ```
 */
export async function runDemoCases(
  baseUrl: string,
  issuer: DevIssuer,
  cases: readonly DemoCase[] = demoCases,
): Promise<DemoResult[]> {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const prover = createDpopProver({ keyPair });
  const jkt = await prover.jkt();
  const results: DemoResult[] = [];
  for (const c of cases) {
    const token = c.token === undefined ? undefined : await c.token(issuer, jkt);
    for (const protocol of protocols) {
      const client = createClient(GreeterService, exampleTransport(baseUrl, protocol, undefined, sending(c, token, prover)));
      const call = async () =>
        c.call === "Ping"
          ? (await client.ping({})).message
          : c.call === "Greet"
            ? (await client.greet({ name: "demo" })).greeting
            : (await client.admin({})).message;
      let code: Code | "OK" = "OK";
      let reason: string | undefined;
      let reasonDetail: string | undefined;
      let challenge: string | undefined;
      let detail: string;
      try {
        // A replayed proof: the first call uses it (and passes), the second is the case.
        if (c.send === "replayed proof") await call();
        detail = await call();
      } catch (e) {
        const error = ConnectError.from(e);
        const failure = readAuthFailure(error);
        code = error.code;
        reason = failure?.reason;
        reasonDetail = failure?.metadata["detail"];
        challenge = error.metadata.get("www-authenticate") ?? undefined;
        detail = error.rawMessage;
      }
      const pass =
        code === c.expected.code &&
        reason === c.expected.reason &&
        (c.expected.detail === undefined || reasonDetail === c.expected.detail);
      results.push({ case: c, protocol, code, reason, reasonDetail, challenge, detail, pass });
    }
  }
  return results;
}

/** The interceptors of a case: its token, sent as the case says. */
function sending(c: DemoCase, token: string | undefined, prover: DpopProver): Interceptor[] {
  if (token === undefined) return [];
  switch (c.send ?? "bearer") {
    case "bearer":
    case "as bearer":
      return [createAuthInterceptor({ token })];
    case "dpop":
      return [createAuthInterceptor({ token, dpop: prover })];
    case "replayed proof":
      return [replaying(token, prover)];
  }
}

/** Sends the token with DPoP and the same proof on every request: what a replay looks like to the server. */
function replaying(token: string, prover: DpopProver): Interceptor {
  let proof: Promise<string> | undefined;
  return (next) => async (req) => {
    proof ??= prover.proof({ method: req.requestMethod, url: req.url, accessToken: token });
    req.header.set("authorization", `DPoP ${token}`);
    req.header.set("dpop", await proof);
    return next(req);
  };
}

/** Formats results as a plain-text table. */
export function formatTable(results: readonly DemoResult[]): string {
  const rows = results.map((r) => [
    `${r.case.call} (${r.case.name})`,
    r.protocol,
    r.code === "OK" ? "OK" : `${Code[r.code]} (${r.code})`,
    r.reason === undefined ? "-" : r.reasonDetail === undefined ? r.reason : `${r.reason} (${r.reasonDetail})`,
    r.pass
      ? "as expected"
      : `EXPECTED ${r.case.expected.code === "OK" ? "OK" : Code[r.case.expected.code]} ${r.case.expected.reason ?? ""} ${r.case.expected.detail ?? ""}`.trimEnd(),
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
