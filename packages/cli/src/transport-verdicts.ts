// The transport verdicts of `connectauth doctor`, as a table: in the order the probes ask, a condition
// on what they found and what it says. Pure: the probes are transport-probe.ts, the walk diagnose.ts.
import type { Protocol } from "./raw-call.js";
import type { TransportFacts } from "./transport-probe.js";
import { type Case, type Verdict, firstVerdict } from "./verdicts.js";

/** What the probes found before any call: the facts {@link transportVerdict} judges. */
export interface TransportSituation {
  /** The base URL, parsed. */
  readonly url: URL;
  readonly protocol: Protocol;
  /** The HTTP version asked for; `undefined`: whichever the server speaks. */
  readonly httpVersion: "1.1" | "2" | undefined;
  readonly transport: TransportFacts;
}

const hostPort = (url: URL) => `${url.hostname}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;

/** The transport verdicts, in the order they are asked: the first that holds stops the diagnosis. */
const transportCases: readonly Case<TransportSituation>[] = [
  {
    id: "server_unreachable",
    when: (s) => !s.transport.reachable && s.transport.connectError === "ENOTFOUND",
    says: (s) => ({
      summary: `nothing answers at ${hostPort(s.url)} (${s.transport.connectError}).`,
      fix: `check the host name "${s.url.hostname}" (DNS does not resolve it).`,
    }),
  },
  {
    id: "server_unreachable",
    when: (s) => !s.transport.reachable,
    says: (s) => ({
      summary: `nothing answers at ${hostPort(s.url)} (${s.transport.connectError}).`,
      fix: `start the server, or check the host and port (is it listening on ${hostPort(s.url)}, and not only on another interface?).`,
    }),
  },
  {
    id: "tls_to_plaintext",
    when: (s) => s.url.protocol === "https:" && !s.transport.speaksTls,
    says: (s) => ({
      summary: `the URL says https but ${hostPort(s.url)} speaks plaintext (no TLS handshake).`,
      fix: `use http://${hostPort(s.url)}, or serve TLS on the server (http2.createSecureServer with a certificate).`,
    }),
  },
  {
    id: "plaintext_to_tls",
    when: (s) => s.url.protocol === "http:" && s.transport.speaksTls,
    says: (s) => ({
      summary: `the URL says http but ${hostPort(s.url)} expects TLS.`,
      fix: `use https://${hostPort(s.url)}${s.url.pathname === "/" ? "" : s.url.pathname}.`,
    }),
  },
  {
    id: "certificate_error",
    when: (s) => s.transport.certificateError !== undefined,
    says: (s) => ({
      summary: `the server's certificate is not trusted: ${s.transport.certificateError}.`,
      fix: certificateFix(s.transport.certificateError ?? "", s.url.hostname),
    }),
  },
  {
    id: "http_version_mismatch",
    when: (s) => s.protocol === "grpc" && (s.httpVersion === "1.1" || !s.transport.http2),
    says: () => ({
      summary: "gRPC needs HTTP/2, and the server answers HTTP/1.1 only.",
      fix: "use --protocol connect or grpc-web, or serve HTTP/2 (http2.createServer, or h2 via ALPN over TLS).",
    }),
  },
  {
    id: "http_version_mismatch",
    when: (s) => s.httpVersion === "1.1" && !s.transport.http1,
    says: () => ({
      summary: "HTTP/1.1 was asked for, and the server speaks HTTP/2 only.",
      fix: "serve HTTP/1.1 too (http2.createSecureServer({ allowHTTP1: true }), or an HTTP/1.1 listener), or use an HTTP/2 client (--http-version 2).",
    }),
  },
  {
    id: "http_version_mismatch",
    when: (s) => s.httpVersion === "2" && !s.transport.http2,
    says: () => ({
      summary: "HTTP/2 was asked for, and the server speaks HTTP/1.1 only.",
      fix: "use --http-version 1.1, or serve HTTP/2.",
    }),
  },
  {
    id: "http_version_mismatch",
    when: (s) => !s.transport.http1 && !s.transport.http2,
    says: () => ({
      summary: "the server answers neither HTTP/1.1 nor HTTP/2 on this port.",
      fix: "check the port: is it an HTTP server?",
    }),
  },
];

/**
 * The transport verdict of a situation: the first problem, in the order the probes ask, or `undefined`
 * when the call can be made.
 *
 * ```ts
 * transportVerdict({ url, protocol: "grpc", httpVersion: undefined, transport: await probeTransport(url) })?.id;
 * // "http_version_mismatch" when the server speaks HTTP/1.1 only
 * ```
 *
 * Not checked: anything beyond the facts given (it makes no connection).
 */
export function transportVerdict(s: TransportSituation): Verdict | undefined {
  return firstVerdict(transportCases, s);
}

function certificateFix(code: string, host: string): string {
  switch (code) {
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return "the certificate is signed by a CA this machine does not trust: pass the CA with --ca <file.pem> (clients: NODE_EXTRA_CA_CERTS or the transport's ca option), or use a certificate from a public CA.";
    case "CERT_HAS_EXPIRED":
      return "the server's certificate has expired: renew it.";
    case "CERT_NOT_YET_VALID":
      return "the server's certificate is not valid yet: check the server's and this machine's clocks.";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `the certificate is not issued for "${host}": call the server by a name its certificate lists, or reissue the certificate with this name.`;
    default:
      return "fix the server's certificate chain (serve the intermediate certificates too).";
  }
}
