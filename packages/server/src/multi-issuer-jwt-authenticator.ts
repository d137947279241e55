import { decodeJwt } from "jose";
import { Reason } from "@connectauth/core";
import { type Authenticator, rejected } from "./authenticator.js";
import { authenticatorStatusHooks } from "./authenticator-status.js";
import { createCachingTokenAuthenticator } from "./caching-token-authenticator.js";
import { createDpopBinding } from "./dpop-binding.js";
import { type IssuerVerifier, createIssuerVerifier } from "./issuer-verifier.js";
import type { JwtAuthenticatorCommonOptions } from "./jwt-authenticator.js";
import type { JwtIssuerOptions } from "./jwt-issuer-options.js";
import { combineKeySourceStatus, localKeysStatus } from "./key-source-status.js";
import { revocationListOption } from "./revocation-check.js";

/** Options of {@link createMultiIssuerJwtAuthenticator}: the issuers, and the common options. */
export interface MultiIssuerJwtAuthenticatorOptions extends JwtAuthenticatorCommonOptions {
  /**
   * One configuration per trusted issuer (each with one `issuer` string): its audience, algorithms and
   * keys apply to its tokens only. At least one; no issuer twice.
   */
  readonly issuers: readonly (JwtIssuerOptions & { readonly issuer: string })[];
}

/**
 * Creates a bearer-JWT authenticator for several issuers at once (multi-tenant): the issuer's
 * configuration is chosen by the token's `iss`, read without verification, and the token is then
 * verified strictly against that issuer alone (its keys, algorithms, audience). A token naming an
 * unknown issuer is `INVALID_ISSUER` at once, without any key lookup.
 *
 * ```ts
 * const jwt = createMultiIssuerJwtAuthenticator({
 *   issuers: [
 *     { issuer: "https://a.example.com/", audience: "api", algorithms: ["ES256"], discovery: true },
 *     { issuer: "https://b.example.com/", audience: "api", algorithms: ["RS256"], keys: new URL("https://b.example.com/jwks") },
 *   ],
 * });
 * ```
 *
 * With `dpop`, DPoP-bound tokens as for `createJwtAuthenticator`, for every issuer; a proof's `jti` is
 * recorded per issuer (the replay scope is the token's `iss`), and its `iat` may be off by the window
 * plus that issuer's `clockToleranceSeconds`. With `revocation`, one list for every issuer (each
 * revocation names its issuer), checked on every call as for `createJwtAuthenticator`. `status()` is
 * ready when every issuer's keys are (your own key lookup counts as ready) and the list is caught up.
 *
 * Not checked: that the issuers' tokens differ in anything but `iss` (a token is verified by the
 * configuration its `iss` names, only).
 *
 * @throws TypeError with no issuer, an issuer twice, a bad issuer configuration, `dpop` or `revocation` option.
 */
export function createMultiIssuerJwtAuthenticator(options: MultiIssuerJwtAuthenticatorOptions): Authenticator {
  const what = "createMultiIssuerJwtAuthenticator";
  const name = options.name ?? "jwt";
  const now = options.now ?? Date.now;
  if (!Array.isArray(options.issuers) || options.issuers.length === 0) {
    throw new TypeError(`${what}: at least one issuer is required`);
  }
  const byIssuer = new Map<string, IssuerVerifier>();
  for (const config of options.issuers) {
    if (typeof config.issuer !== "string") {
      throw new TypeError(`${what}: each issuer configuration names exactly one issuer (a string)`);
    }
    if (byIssuer.has(config.issuer)) {
      throw new TypeError(`${what}: the issuer "${config.issuer}" is configured twice`);
    }
    byIssuer.set(config.issuer, createIssuerVerifier({ ...config, maxTokenLength: options.maxTokenLength }, { what, name, now }));
  }
  const verifiers = [...byIssuer.values()];
  const clockTolerances = new Map([...byIssuer].map(([issuer, verify]) => [issuer, verify.clockTolerance]));
  const keys = verifiers.some((v) => v.keys !== undefined)
    ? combineKeySourceStatus(verifiers.map((v) => v.keys ?? localKeysStatus))
    : undefined;
  const revocation = revocationListOption(options.revocation, what);
  return createCachingTokenAuthenticator({
    name,
    what,
    maxTokenLength: options.maxTokenLength,
    cache: options.cache,
    now,
    dpop: createDpopBinding(options.dpop, { what, now, clockToleranceSeconds: clockTolerances }),
    revocation,
    status: authenticatorStatusHooks(keys, revocation),
    async verify(token) {
      let iss: unknown;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        const encrypted = token.split(".").length === 5;
        return {
          outcome: rejected(Reason.InvalidToken, {
            message: encrypted ? "encrypted tokens (JWE) are not accepted" : "the token is malformed",
            detail: encrypted ? "encrypted" : "format",
          }),
        };
      }
      const verify = typeof iss === "string" ? byIssuer.get(iss) : undefined;
      if (verify === undefined) {
        return { outcome: rejected(Reason.InvalidIssuer, { message: "the token's issuer is not trusted", detail: "iss" }) };
      }
      return verify(token);
    },
  });
}
