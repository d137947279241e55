import { X509Certificate, createHash } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { type HandlerContext, createContextKey } from "@connectrpc/connect";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, SubjectAlternativeName, id_ce_subjectAltName } from "@peculiar/asn1-x509";

/**
 * The client certificate a TLS connection presented, as read from the socket once the handshake is done.
 */
export interface PeerCertificate {
  /** The subject's distinguished name, e.g. `"O=Example, CN=billing"` (Node's order, joined by ", "). */
  readonly subject: string;
  /** The subject's common name (`CN`), if any. */
  readonly commonName: string | undefined;
  /** The `dNSName` entries of the subject alternative names. */
  readonly dnsNames: readonly string[];
  /** The `uniformResourceIdentifier` entries of the subject alternative names. */
  readonly uris: readonly string[];
  /** The SPIFFE ID: the URI SAN with the `spiffe:` scheme, when there is exactly one (an X.509-SVID). */
  readonly spiffeId: string | undefined;
  /**
   * The base64url SHA-256 of the DER certificate: RFC 8705's `x5t#S256`, the value a certificate-bound
   * token carries in `cnf`.
   */
  readonly thumbprintSha256: string;
  /** Whether Node verified the chain against the server's trusted CAs (`socket.authorized`). */
  readonly verified: boolean;
  /** Why verification failed (an OpenSSL code such as `"UNABLE_TO_VERIFY_LEAF_SIGNATURE"`), if it did. */
  readonly verificationError: string | undefined;
  /** The DER certificate. */
  readonly der: Uint8Array;
}

/**
 * The context value holding the peer certificate of the call's connection, set by the
 * `nodeContextValues` hook; `undefined` on plaintext connections or when no certificate was sent.
 * Prefer {@link getPeerCertificate}.
 *
 * ```ts
 * const cert = ctx.values.get(peerCertificateKey);
 * ```
 */
export const peerCertificateKey = createContextKey<PeerCertificate | undefined>(undefined, {
  description: "connectauth peer certificate",
});

/**
 * The client certificate of the current call's connection, or `undefined`.
 *
 * ```ts
 * whoAmI(_req, ctx) {
 *   return { subject: getPeerCertificate(ctx)?.spiffeId ?? "" };
 * }
 * ```
 */
export function getPeerCertificate(context: Pick<HandlerContext, "values">): PeerCertificate | undefined {
  return context.values.get(peerCertificateKey);
}

const cache = new WeakMap<object, PeerCertificate | undefined>();

/**
 * Reads the client certificate of a socket: `undefined` for a plaintext socket or when the client sent
 * no certificate. An unverified certificate is returned with `verified: false` (the server must have been
 * created with `requestCert: true`, and `rejectUnauthorized: false` to let such clients in at all).
 *
 * ```ts
 * const cert = readPeerCertificate(req.socket);
 * ```
 */
export function readPeerCertificate(socket: unknown): PeerCertificate | undefined {
  if (typeof socket !== "object" || socket === null) return undefined;
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== "function") return undefined;
  if (cache.has(socket)) return cache.get(socket);
  const raw = tls.getPeerCertificate(false)?.raw;
  const result = raw === undefined || raw.length === 0 ? undefined : parse(raw, tls);
  cache.set(socket, result);
  return result;
}

function parse(der: Buffer, socket: Partial<TLSSocket>): PeerCertificate {
  const x509 = new X509Certificate(der);
  const names = x509.subject.split("\n");
  const commonName = names.find((n) => n.startsWith("CN="))?.slice(3);
  const dnsNames: string[] = [];
  const uris: string[] = [];
  const certificate = AsnConvert.parse(der, Certificate);
  const san = certificate.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  if (san !== undefined) {
    for (const name of AsnConvert.parse(san.extnValue, SubjectAlternativeName)) {
      if (name.dNSName !== undefined) dnsNames.push(name.dNSName);
      if (name.uniformResourceIdentifier !== undefined) uris.push(name.uniformResourceIdentifier);
    }
  }
  const spiffe = uris.filter((u) => u.startsWith("spiffe://"));
  const authorizationError = socket.authorizationError as unknown;
  return {
    subject: names.join(", "),
    commonName,
    dnsNames,
    uris,
    spiffeId: spiffe.length === 1 ? spiffe[0] : undefined,
    thumbprintSha256: createHash("sha256").update(der).digest("base64url"),
    verified: socket.authorized === true,
    verificationError:
      authorizationError === undefined || authorizationError === null
        ? undefined
        : String((authorizationError as { code?: unknown }).code ?? authorizationError),
    der: new Uint8Array(der),
  };
}
