import type { JWTPayload } from "jose";
import { Reason, scopesFromClaims } from "@connectauth/core";
import { type AuthOutcome, accepted, rejected } from "./authenticator.js";
import type { AuthIdentity } from "./identity.js";
import { verificationRejection } from "./jose-errors.js";
import { type JwtIssuerOptions, issuerSettings } from "./jwt-issuer-options.js";
import { precheckJws } from "./jws-precheck.js";
import { type KeySourceStatus, keySourceStatusOf } from "./key-source-status.js";
import { keySetWatchOf } from "./key-set-watch.js";
import { guardKeySource } from "./key-type-guard.js";
import { verifyPrecheckedJwt } from "./native-jws.js";

/**
 * @internal The outcome of verifying one token, with what the verified-token cache needs to keep an
 * acceptance: the instant it ends, and whether the key that verified the token is still trusted.
 *
 * ```ts
 * const verification: TokenVerification = { outcome: accepted(identity), expiresAtMs: exp * 1000, stillTrusted: () => keys.has(id) };
 * ```
 */
export type TokenVerification = {
  readonly outcome: AuthOutcome;
  readonly expiresAtMs?: number;
  /**
   * Checked on every cache hit (it must not allocate); once false, the entry is dropped and the token
   * verified again. Absent for keys that never change (a fixed key, a JWKS
   * object) and for your own key lookup.
   */
  readonly stillTrusted?: () => boolean;
};

/**
 * @internal The verification of one issuer's tokens, with what the authenticator around it needs of
 * the issuer: its keys' status (`undefined` for your own key lookup) and its clock tolerance (seconds).
 *
 * ```ts
 * const verify = createIssuerVerifier(options, context);
 * verify.keys?.status(); // { ready: true }
 * ```
 *
 * Not checked: anything of a token by these two (they describe the issuer).
 */
export type IssuerVerifier = ((token: string) => Promise<TokenVerification>) & {
  readonly keys: KeySourceStatus | undefined;
  readonly clockTolerance: number;
};

/** @internal Settings shared by the issuer verifiers of one authenticator. */
export interface VerifierContext {
  readonly what: string;
  readonly name: string;
  readonly now: () => number;
}

/**
 * @internal Builds the verification of one issuer's tokens (no cache, no size cap beyond the
 * precheck's). Validates the options at once.
 *
 * Before any key is looked up: {@link precheckJws}. Then {@link verifyPrecheckedJwt} (jose's `jwtVerify`, with the
 * signature checked by `node:crypto` where the runtime has it) with the key lookup guarded (the key's
 * type must fit the algorithm), `exp` finite, the lifetime cap, and an `iat` in the future when jose
 * did not check it.
 *
 * ```ts
 * const verify = createIssuerVerifier(options, { what: "createJwtAuthenticator", name: "jwt", now: Date.now });
 * const { outcome } = await verify(token);
 * verify.keys?.status(); // the key source's readiness
 * ```
 *
 * Not checked: `jti` replay, and anything a cache in front of it decides.
 */
export function createIssuerVerifier(
  options: JwtIssuerOptions & { readonly maxTokenLength?: number },
  context: VerifierContext,
): IssuerVerifier {
  const { name, now } = context;
  const s = issuerSettings(options, context.what);
  const { issuer, audience, algorithms, requiredClaims, clockTolerance, maxTokenAge, maxLifetime, scopeClaims } = s;
  const precheck = { maxTokenLength: s.maxTokenLength, algorithms: new Set(algorithms), typ: s.typ };
  const guardedGetKey = guardKeySource(s.getKey);
  const watch = keySetWatchOf(s.getKey);

  const verify = async (token: string): Promise<TokenVerification> => {
    const checked = precheckJws(token, precheck);
    if ("ok" in checked) return { outcome: checked };
    let payload: JWTPayload;
    let key: unknown;
    try {
      // The header the precheck decoded, not decoded again.
      ({ payload, key } = await verifyPrecheckedJwt(token, checked.header as Record<string, unknown>, guardedGetKey, {
        issuer,
        audience,
        algorithms,
        requiredClaims,
        clockTolerance,
        maxTokenAge,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      return { outcome: verificationRejection(error) };
    }
    const exp = payload.exp;
    if (typeof exp !== "number" || !Number.isFinite(exp)) {
      return { outcome: rejected(Reason.InvalidToken, { message: "the token's exp is not a finite time", detail: "claim_exp" }) };
    }
    const nowS = Math.floor(now() / 1000); // as jose counts
    const start = [payload.iat, payload.nbf].find((t) => typeof t === "number" && Number.isFinite(t)) ?? nowS;
    // From its start, and from now: a start set late (iat = exp - 1h on a token valid for a year) does
    // not shorten the lifetime. From now within the clock tolerance, as an iat is.
    if (exp - start > maxLifetime || exp - nowS > maxLifetime + clockTolerance) {
      return { outcome: rejected(Reason.InvalidToken, { message: "the token's lifetime is too long", detail: "lifetime" }) };
    }
    // jose refuses an iat in the future only along with maxTokenAge (it then requires iat too, and
    // verificationRejection maps it): its same rule here, for the tokens it did not check.
    if (maxTokenAge === undefined && typeof payload.iat === "number" && payload.iat - nowS > clockTolerance) {
      return { outcome: rejected(Reason.TokenNotYetValid, { message: "the token is issued in the future", detail: "iat" }) };
    }
    const stillTrusted = watch === undefined ? undefined : await watch.trustCheck(key); // no wait without a watch
    return { outcome: accepted(identityOf(payload, name, scopeClaims)), expiresAtMs: exp * 1000, stillTrusted };
  };
  return Object.assign(verify, { keys: keySourceStatusOf(s.getKey), clockTolerance });
}

function identityOf(payload: JWTPayload, name: string, scopeClaims: readonly string[]): AuthIdentity {
  const subject =
    typeof payload.sub === "string" ? payload.sub : typeof payload["client_id"] === "string" ? payload["client_id"] : "";
  return { subject, scopes: scopesFromClaims(payload, scopeClaims), claims: payload, authenticator: name };
}
