import { Reason } from "@connectauth/core";
import { type Authenticator, rejected } from "@connectauth/server";
import { peerCertificateKey } from "./peer-certificate.js";

/** Options of {@link createCertificateBoundAuthenticator}. */
export interface CertificateBoundAuthenticatorOptions {
  /** The authenticator of the tokens, e.g. `createJwtAuthenticator(...)`. */
  readonly authenticator: Authenticator;
  /** Refuse tokens without `cnf.x5t#S256` too (every token must be certificate-bound). Default false. */
  readonly requireBinding?: boolean;
}

/**
 * Wraps a token authenticator with RFC 8705 certificate binding: a token whose claims hold
 * `cnf: { "x5t#S256": … }` is accepted only over a TLS connection that presented the certificate with
 * that SHA-256 thumbprint (read by the `nodeContextValues` hook); otherwise `INVALID_TOKEN` with detail
 * `cnf_mismatch`, as RFC 8705 §3 asks. The TLS handshake proved the client holds the certificate's key,
 * so the certificate need not chain to a CA the server trusts (RFC 8705 §2.2, self-signed certificates).
 *
 * ```ts
 * const auth = createServerAuth({
 *   authenticators: [createCertificateBoundAuthenticator({ authenticator: createJwtAuthenticator(jwtOptions) })],
 * });
 * ```
 *
 * @throws TypeError without an authenticator.
 */
export function createCertificateBoundAuthenticator(options: CertificateBoundAuthenticatorOptions): Authenticator {
  const inner = options?.authenticator;
  if (typeof inner?.authenticate !== "function") {
    throw new TypeError("createCertificateBoundAuthenticator: authenticator is required");
  }
  const requireBinding = options.requireBinding ?? false;
  return {
    name: inner.name,
    schemes: inner.schemes,
    async authenticate(credentials, call) {
      const outcome = await inner.authenticate(credentials, call);
      if (!outcome.ok) return outcome;
      const cnf = outcome.identity.claims["cnf"] as Record<string, unknown> | undefined;
      const bound = typeof cnf === "object" && cnf !== null ? cnf["x5t#S256"] : undefined;
      if (bound === undefined) {
        return requireBinding
          ? rejected(Reason.InvalidToken, { message: "the token is not bound to a certificate", detail: "cnf_missing" })
          : outcome;
      }
      const certificate = call?.values.get(peerCertificateKey);
      if (typeof bound !== "string" || certificate?.thumbprintSha256 !== bound) {
        return rejected(Reason.InvalidToken, {
          message: "the token is bound to a client certificate this connection did not present",
          detail: "cnf_mismatch",
        });
      }
      return outcome;
    },
  };
}
