import { Reason } from "@connectauth/core";
import { type Authenticator, accepted, rejected } from "@connectauth/server";
import { type PeerCertificate, peerCertificateKey } from "./peer-certificate.js";

/** Who a client certificate stands for. */
export interface CertificateIdentity {
  /** The caller's name in `getAuth(ctx).subject`, e.g. the SPIFFE ID. */
  readonly subject: string;
  /** The scopes granted to the caller. */
  readonly scopes: Iterable<string>;
  /** Extra claims for `getAuth(ctx).claims`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Options of {@link createCertificateAuthenticator}. */
export interface CertificateAuthenticatorOptions {
  /**
   * Maps a verified certificate to a caller, or `undefined` when it stands for nobody known here
   * (refused as `INVALID_CLIENT_CERTIFICATE`). See {@link identifyBySpiffeId}.
   */
  readonly identify: (certificate: PeerCertificate) => CertificateIdentity | undefined | Promise<CertificateIdentity | undefined>;
  /** The authenticator's name in identities and `ErrorInfo.metadata.authenticator`. Default `"mtls"`. */
  readonly name?: string;
}

/**
 * Creates an authenticator of TLS client certificates (mutual TLS): it reads the certificate that
 * the `nodeContextValues` hook put in the context values and decides when the request has no
 * `Authorization` header (a bearer token, when sent, takes precedence). No certificate: nothing presented
 * (`MISSING_CREDENTIALS` unless the method is public). A certificate Node could not verify against the
 * server's CAs, or one `identify` does not know: `INVALID_CLIENT_CERTIFICATE` (Unauthenticated).
 *
 * ```ts
 * const auth = createServerAuth({
 *   authenticators: [jwt, createCertificateAuthenticator({
 *     identify: identifyBySpiffeId({ "spiffe://example.org/ns/prod/sa/billing": ["greet"] }),
 *   })],
 * });
 * ```
 *
 * Not checked here: revocation (CRL/OCSP); configure it on the TLS server.
 *
 * @throws TypeError without an `identify` function.
 */
export function createCertificateAuthenticator(options: CertificateAuthenticatorOptions): Authenticator {
  if (typeof options?.identify !== "function") {
    throw new TypeError("createCertificateAuthenticator: identify must be a function");
  }
  const name = options.name ?? "mtls";
  return {
    name,
    schemes: [],
    authenticate: async () => rejected(Reason.MalformedCredentials, { message: "client certificates do not travel in a header" }),
    async authenticateConnection({ values }) {
      const certificate = values.get(peerCertificateKey);
      if (certificate === undefined) return undefined;
      if (!certificate.verified) {
        return rejected(Reason.InvalidClientCertificate, {
          message: "the client certificate is not signed by a trusted CA",
          detail: "unverified",
        });
      }
      const who = await options.identify(certificate);
      if (who === undefined) {
        return rejected(Reason.InvalidClientCertificate, {
          message: "the client certificate stands for no known caller",
          detail: "unknown_identity",
        });
      }
      return accepted({
        subject: who.subject,
        scopes: new Set(who.scopes),
        claims: { ...who.claims, "x5t#S256": certificate.thumbprintSha256 },
        authenticator: name,
      });
    },
  };
}

/**
 * An `identify` function for {@link createCertificateAuthenticator} that knows callers by their SPIFFE
 * ID (the certificate's one `spiffe://` URI SAN): the subject is the SPIFFE ID, the scopes those listed.
 *
 * ```ts
 * identifyBySpiffeId({ "spiffe://example.org/ns/prod/sa/billing": ["greet"] })
 * ```
 */
export function identifyBySpiffeId(
  scopesById: Readonly<Record<string, readonly string[]>>,
): (certificate: PeerCertificate) => CertificateIdentity | undefined {
  const known = new Map(Object.entries(scopesById));
  return (certificate) => {
    const id = certificate.spiffeId;
    const scopes = id === undefined ? undefined : known.get(id);
    return id === undefined || scopes === undefined ? undefined : { subject: id, scopes };
  };
}
