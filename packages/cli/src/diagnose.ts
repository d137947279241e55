// The walk of `connectauth doctor`: the calls a diagnosis makes, in order (probe the transport, decode
// the token, make the call), each followed by the verdict table that judges what it found
// (transport-verdicts.ts, call-verdicts.ts); the first verdict that names a cause ends the walk.
import { type CallOutcome, callOutcome } from "./call-outcome.js";
import { callVerdict } from "./call-verdicts.js";
import { callNotes, healthNotes, transportNotes } from "./doctor-notes.js";
import { type DpopFacts, type DpopKey, boundKeyOf } from "./dpop-key.js";
import { type HealthFacts, probeHealth } from "./health-probe.js";
import { healthVerdict } from "./health-verdicts.js";
import { type Protocol, rawUnaryCall } from "./raw-call.js";
import { type TokenFacts, tokenFacts } from "./token-facts.js";
import { type TransportFacts, probeTransport } from "./transport-probe.js";
import { transportVerdict } from "./transport-verdicts.js";
import type { Verdict, VerdictId } from "./verdicts.js";

/** Options of {@link diagnose}. */
export interface DiagnoseOptions {
  /** The server's base URL, `http://` or `https://`. */
  readonly baseUrl: string;
  /** `package.Service/Method`. */
  readonly method: string;
  /** The token to send as `Bearer` (as `DPoP` with `dpopKey`); `undefined` sends no credential. */
  readonly token?: string;
  /**
   * Send the token with DPoP (RFC 9449): `Authorization: DPoP <token>` and a proof of the call signed
   * by this key (`readDpopKey`); a server that asks for a nonce gets the call once more with it.
   */
  readonly dpopKey?: DpopKey;
  /** Default `"connect"`. */
  readonly protocol?: Protocol;
  /** Force an HTTP version; default: HTTP/2 when the server speaks it, else HTTP/1.1. */
  readonly httpVersion?: "1.1" | "2";
  /** Extra trusted CA certificates (PEM). */
  readonly ca?: string;
  /** Per-step timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** The local clock, in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The whole result of `connectauth doctor`, which `--json` prints as is. `schema` changes only when a
 * field changes meaning or goes away; fields may be added.
 */
export interface Diagnosis {
  readonly schema: "connectauth.doctor/v1";
  readonly target: {
    readonly baseUrl: string;
    readonly method: string;
    readonly protocol: Protocol;
    /** The HTTP version of the call, `null` when no call was made. */
    readonly httpVersion: "1.1" | "2" | null;
  };
  /** The token decoded without verification; `null` when none was given. */
  readonly token: TokenFacts | null;
  readonly transport: TransportFacts;
  /**
   * What `grpc.health.v1.Health/Check` said before the call, with its verdict (`server_not_ready`, or
   * `ok` for SERVING; `null` when there is nothing to judge: see `notes`); `null` when the transport
   * checks stopped before.
   */
  readonly health: (HealthFacts & { readonly verdict: DiagnosisVerdict | null }) | null;
  /** `null` when the transport checks stopped before the call. */
  readonly call: CallOutcome | null;
  /** The DPoP key of the call and the one the token is bound to (thumbprints only). */
  readonly dpop: DpopFacts;
  /** Observations that are not the verdict (warnings, e.g. "expires in 20 s"). */
  readonly notes: readonly string[];
  readonly verdict: DiagnosisVerdict;
}

/** A verdict as a {@link Diagnosis} carries it. */
export interface DiagnosisVerdict {
  readonly id: VerdictId;
  readonly ok: boolean;
  /** One sentence: what is wrong. */
  readonly summary: string;
  /** The concrete fix. Empty when ok. */
  readonly fix: string;
}

/**
 * Diagnoses one call: probes the transport, decodes the token (untrusted) against the local clock,
 * asks the server's `grpc.health.v1` Check (without the token, within 2 s), makes the call with an empty request (with a DPoP proof per attempt when given a key, and once more
 * with the server's nonce when it asks for one), and explains the answer. Never holds the token, a
 * proof or the key in its result (only the token's short hash and thumbprints). Talks to `baseUrl` only.
 *
 * ```ts
 * const d = await diagnose({ baseUrl: "http://127.0.0.1:8080", method: "example.v1.GreeterService/Admin", token });
 * d.verdict; // { id: "insufficient_scope", ok: false, summary: "…", fix: "…" }
 * ```
 *
 * Not covered: streaming calls and client certificates; the token's signature is never checked here
 * (only the server can).
 *
 * @throws TypeError on a URL that is not http(s), a method that is not `package.Service/Method`, or a
 *   `dpopKey` without a token.
 */
export async function diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
  const url = new URL(options.baseUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`the base URL must be http:// or https://, got ${url.protocol}`);
  }
  if (!/^\/?(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*\/[A-Za-z_]\w*$/.test(options.method)) {
    throw new TypeError(`"${options.method}" is not a method name of the form package.Service/Method`);
  }
  if (options.dpopKey !== undefined && options.token === undefined) {
    throw new TypeError("--dpop-key needs a token to prove: give --token or --token-file");
  }
  const method = options.method.replace(/^\//, "");
  const protocol = options.protocol ?? "connect";
  const token = options.token === undefined ? null : tokenFacts(options.token, (options.now ?? Date.now)());
  const target = { baseUrl: options.baseUrl, method, protocol };
  const dpop = {
    keyJkt: options.dpopKey?.jkt ?? null,
    tokenJkt: (options.token === undefined ? undefined : boundKeyOf(options.token)) ?? null,
    nonceRetried: false,
  };

  // 1. The transport, with short probe connections.
  const transport = await probeTransport(url, { ca: options.ca, timeoutMs: options.timeoutMs });
  const notes = transportNotes(url, transport);
  const stopped = transportVerdict({ url, protocol, httpVersion: options.httpVersion, transport });
  if (stopped !== undefined) {
    return result({
      target: { ...target, httpVersion: null },
      token,
      transport,
      health: null,
      call: null,
      dpop,
      notes,
      verdict: stopped,
    });
  }
  const httpVersion = options.httpVersion ?? (transport.http2 ? "2" : "1.1");

  // 2. The server's health, as a load balancer asks it (no credential), over the call's transport.
  const { ca, timeoutMs } = options;
  const facts = await probeHealth({
    baseUrl: options.baseUrl,
    service: method.split("/")[0] ?? "",
    protocol,
    httpVersion,
    ca,
    timeoutMs,
  });
  const judged = healthVerdict(facts);
  const health = { ...facts, verdict: judged === undefined ? null : verdictOf(judged) };
  notes.push(...healthNotes(facts));

  // 3. The call, with the token (if any) as Bearer, or as DPoP with a proof, over the HTTP version the server speaks.
  notes.push(...callNotes(url, token, dpop));
  const { dpopKey } = options;
  const send = (nonce: string | undefined) =>
    rawUnaryCall({
      baseUrl: options.baseUrl,
      method,
      protocol,
      httpVersion,
      authorization: options.token === undefined ? undefined : `${dpopKey === undefined ? "Bearer" : "DPoP"} ${options.token}`,
      dpop:
        dpopKey === undefined || options.token === undefined
          ? undefined
          : (request) => dpopKey.proof({ ...request, accessToken: options.token as string, nonce }),
      ca: options.ca,
      timeoutMs: options.timeoutMs,
    });
  const first = await send(undefined);
  let call = callOutcome(first, token);
  // One nonce followed, as a DPoP client does (RFC 9449 §8): the answer to that attempt is the verdict's.
  const nonce = first?.metadata.get("dpop-nonce") ?? undefined;
  if (dpopKey !== undefined && call.reason === "USE_DPOP_NONCE" && nonce !== undefined) {
    dpop.nonceRetried = true;
    call = callOutcome(await send(nonce), token);
  }
  return result({
    target: { ...target, httpVersion },
    token,
    transport,
    health,
    call,
    dpop,
    notes,
    verdict: callVerdict({ method, token, call, dpop }),
  });
}

/** The diagnosis with its fields in the documented order (packages/cli/README.md), `ok` from the verdict. */
function result(d: Omit<Diagnosis, "schema" | "verdict"> & { readonly verdict: Verdict }): Diagnosis {
  return {
    schema: "connectauth.doctor/v1",
    target: d.target,
    token: d.token,
    transport: d.transport,
    health: d.health,
    call: d.call,
    dpop: d.dpop,
    notes: d.notes,
    verdict: verdictOf(d.verdict),
  };
}

/** A verdict with its `ok` flag. */
function verdictOf(v: Verdict): DiagnosisVerdict {
  return { id: v.id, ok: v.id === "ok", summary: v.summary, fix: v.fix };
}
