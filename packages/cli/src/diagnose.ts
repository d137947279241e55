// The walk of `connectauth doctor`: the calls a diagnosis makes, in order (probe the transport, decode
// the token, make the call), each followed by the verdict table that judges what it found
// (transport-verdicts.ts, call-verdicts.ts); the first verdict that names a cause ends the walk.
import { type CallOutcome, callOutcome } from "./call-outcome.js";
import { callVerdict } from "./call-verdicts.js";
import { callNotes, transportNotes } from "./doctor-notes.js";
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
  /** The token to send as `Bearer`; `undefined` sends no credential. */
  readonly token?: string;
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
  /** `null` when the transport checks stopped before the call. */
  readonly call: CallOutcome | null;
  /** Observations that are not the verdict (warnings, e.g. "expires in 20 s"). */
  readonly notes: readonly string[];
  readonly verdict: {
    readonly id: VerdictId;
    readonly ok: boolean;
    /** One sentence: what is wrong. */
    readonly summary: string;
    /** The concrete fix. Empty when ok. */
    readonly fix: string;
  };
}

/**
 * Diagnoses one call: probes the transport, decodes the token (untrusted) against the local clock,
 * makes the call with an empty request, and explains the answer. Never holds the token in its result
 * (only its short hash). Talks to `baseUrl` only.
 *
 * ```ts
 * const d = await diagnose({ baseUrl: "http://127.0.0.1:8080", method: "example.v1.GreeterService/Admin", token });
 * d.verdict; // { id: "insufficient_scope", ok: false, summary: "…", fix: "…" }
 * ```
 *
 * Not covered: streaming calls and client certificates; the token's signature is never checked here
 * (only the server can).
 *
 * @throws TypeError on a URL that is not http(s) or a method that is not `package.Service/Method`.
 */
export async function diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
  const url = new URL(options.baseUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`the base URL must be http:// or https://, got ${url.protocol}`);
  }
  if (!/^\/?(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*\/[A-Za-z_]\w*$/.test(options.method)) {
    throw new TypeError(`"${options.method}" is not a method name of the form package.Service/Method`);
  }
  const method = options.method.replace(/^\//, "");
  const protocol = options.protocol ?? "connect";
  const token = options.token === undefined ? null : tokenFacts(options.token, (options.now ?? Date.now)());
  const target = { baseUrl: options.baseUrl, method, protocol };

  // 1. The transport, with short probe connections.
  const transport = await probeTransport(url, { ca: options.ca, timeoutMs: options.timeoutMs });
  const notes = transportNotes(url, transport);
  const stopped = transportVerdict({ url, protocol, httpVersion: options.httpVersion, transport });
  if (stopped !== undefined) {
    return result({ target: { ...target, httpVersion: null }, token, transport, call: null, notes, verdict: stopped });
  }

  // 2. The call, with the token (if any) as Bearer, over the HTTP version the server speaks.
  notes.push(...callNotes(url, token));
  const httpVersion = options.httpVersion ?? (transport.http2 ? "2" : "1.1");
  const error = await rawUnaryCall({
    baseUrl: options.baseUrl,
    method,
    protocol,
    httpVersion,
    authorization: options.token === undefined ? undefined : `Bearer ${options.token}`,
    ca: options.ca,
    timeoutMs: options.timeoutMs,
  });
  const call = callOutcome(error, token);
  return result({
    target: { ...target, httpVersion },
    token,
    transport,
    call,
    notes,
    verdict: callVerdict({ method, token, call }),
  });
}

/** The diagnosis with its fields in the documented order (packages/cli/README.md), `ok` from the verdict. */
function result(d: Omit<Diagnosis, "schema" | "verdict"> & { readonly verdict: Verdict }): Diagnosis {
  return {
    schema: "connectauth.doctor/v1",
    target: d.target,
    token: d.token,
    transport: d.transport,
    call: d.call,
    notes: d.notes,
    verdict: { id: d.verdict.id, ok: d.verdict.id === "ok", summary: d.verdict.summary, fix: d.verdict.fix },
  };
}
