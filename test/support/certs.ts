// Certificates for tests, made in memory with @peculiar/x509 (no openssl CLI needed): a CA that issues
// server and client certificates with SAN DNS names, IP addresses and URIs (SPIFFE IDs).
//
//   const pki = await createTestPki();
//   https.createServer({ ...pki.server.tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false });
//   http2.connect(url, { ca: pki.ca.certPem, ...pki.clients.billing.tls });
import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { createHash, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** One certificate and its private key, PEM encoded. */
export interface TestCertificate {
  /** The certificate, PEM. */
  readonly certPem: string;
  /** The PKCS#8 private key, PEM. */
  readonly keyPem: string;
  /** `{ cert, key }` for `tls`, `https`, `http2` and grpc-js options. */
  readonly tls: { readonly cert: string; readonly key: string };
  /** The DER certificate. */
  readonly der: Uint8Array;
  /** base64url SHA-256 of the DER certificate (RFC 8705 `x5t#S256`). */
  readonly thumbprintSha256: string;
  /** The subject, e.g. `"CN=billing, O=connectauth tests"`. */
  readonly subject: string;
}

/** What a certificate issued by {@link TestCa.issue} holds. */
export interface IssueOptions {
  readonly commonName: string;
  /** `"server"` (serverAuth) or `"client"` (clientAuth). */
  readonly usage: "server" | "client";
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** URI SANs, e.g. `"spiffe://example.org/ns/prod/sa/billing"`. */
  readonly uris?: readonly string[];
  /** Validity in days from now (negative: already expired). Default 1. */
  readonly days?: number;
}

/** A certificate authority for tests. */
export interface TestCa extends TestCertificate {
  /** Issues a certificate signed by this CA. */
  issue(options: IssueOptions): Promise<TestCertificate>;
}

/** The usual set: a CA, a server for localhost/127.0.0.1, two clients with SPIFFE IDs, and a stranger. */
export interface TestPki {
  readonly ca: TestCa;
  /** `CN=localhost`, SAN DNS `localhost`, IP `127.0.0.1`. */
  readonly server: TestCertificate;
  readonly clients: {
    /** SAN URI `spiffe://example.org/ns/prod/sa/billing`, DNS `billing.prod.example.org`. */
    readonly billing: TestCertificate;
    /** SAN URI `spiffe://example.org/ns/prod/sa/reports`, DNS `reports.prod.example.org`. */
    readonly reports: TestCertificate;
  };
  /** A client certificate issued by another CA, which the server does not trust. */
  readonly untrustedClient: TestCertificate;
}

export const spiffeIds = {
  billing: "spiffe://example.org/ns/prod/sa/billing",
  reports: "spiffe://example.org/ns/prod/sa/reports",
} as const;

/** Creates a CA, the server and the clients of {@link TestPki}. Takes a few milliseconds (P-256 keys). */
export async function createTestPki(): Promise<TestPki> {
  const ca = await createTestCa("connectauth test CA");
  const other = await createTestCa("someone else's CA");
  const [server, billing, reports, untrustedClient] = await Promise.all([
    ca.issue({ commonName: "localhost", usage: "server", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }),
    ca.issue({
      commonName: "billing",
      usage: "client",
      dnsNames: ["billing.prod.example.org"],
      uris: [spiffeIds.billing],
    }),
    ca.issue({
      commonName: "reports",
      usage: "client",
      dnsNames: ["reports.prod.example.org"],
      uris: [spiffeIds.reports],
    }),
    other.issue({ commonName: "billing", usage: "client", uris: [spiffeIds.billing] }),
  ]);
  return { ca, server, clients: { billing, reports }, untrustedClient };
}

/** Creates a self-signed CA that can issue certificates. */
export async function createTestCa(commonName: string): Promise<TestCa> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}, O=connectauth tests`,
    ...validity(3650),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const self = await toTestCertificate(cert, keys.privateKey);
  return {
    ...self,
    async issue(options) {
      const leafKeys = await generateKeys();
      const names: x509.JsonGeneralName[] = [
        ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
        ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
        ...(options.uris ?? []).map((value) => ({ type: "url" as const, value })),
      ];
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${options.commonName}, O=connectauth tests`,
        issuer: cert.subject,
        ...validity(options.days ?? 1),
        signingAlgorithm: algorithm,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(
            [options.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
            false,
          ),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
          await x509.AuthorityKeyIdentifierExtension.create(cert, false),
        ],
      });
      return toTestCertificate(leaf, leafKeys.privateKey);
    },
  };
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

function serial(): string {
  // Positive, 16 bytes.
  return `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString("hex")}`;
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return days >= 0
    ? { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * 86_400_000) }
    : { notBefore: new Date(now + 2 * days * 86_400_000), notAfter: new Date(now + days * 86_400_000) };
}

async function toTestCertificate(cert: x509.X509Certificate, privateKey: CryptoKey): Promise<TestCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", privateKey as webcrypto.CryptoKey);
  const keyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
  const certPem = cert.toString("pem");
  const der = new Uint8Array(cert.rawData);
  return {
    certPem,
    keyPem,
    tls: { cert: certPem, key: keyPem },
    der,
    thumbprintSha256: createHash("sha256").update(der).digest("base64url"),
    subject: cert.subject,
  };
}
