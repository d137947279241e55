import { Reason } from "@connectauth/core";
import { type AuthOutcome, rejected } from "./authenticator.js";
import { type RevocationList, type RevocationSubject, revocationDigest } from "./revocation-list.js";

/**
 * @internal What a verified token is checked by in a revocation list: its `iss`, `jti`, `sub`,
 * `client_id` and `iat`, and the digest of its signing input (computed once, on the path that verified
 * it, and kept with the verified outcome, so that a cached token costs no hash).
 *
 * ```ts
 * const subject = revocationSubjectOf(token, outcome.identity.claims);
 * ```
 *
 * Not checked: that `claims` are the verified claims of `token` (the caller verified it); claims of
 * another type than the list expects (a numeric `sub`) are left out, as if absent.
 *
 * @throws TypeError on a token that is not a compact JWS (no verified token is).
 */
export function revocationSubjectOf(token: string, claims: Readonly<Record<string, unknown>>): RevocationSubject {
  const { iss, jti, sub, client_id: clientId, iat } = claims;
  return {
    issuer: typeof iss === "string" ? iss : "",
    jti: typeof jti === "string" ? jti : undefined,
    digest: revocationDigest(token),
    subject: typeof sub === "string" ? sub : undefined,
    clientId: typeof clientId === "string" ? clientId : undefined,
    issuedAt: typeof iat === "number" ? iat : undefined,
  };
}

const revoked: AuthOutcome = Object.freeze(rejected(Reason.InvalidToken, { message: "the token is revoked", detail: "revoked" }));
const unavailable: AuthOutcome = Object.freeze(
  rejected(Reason.RevocationUnavailable, {
    message: "the server cannot check revocations right now",
    detail: "revocation_list",
  }),
);

/**
 * @internal The refusal of a token by a revocation list, or `undefined` when the list says "clear":
 * "revoked" is `INVALID_TOKEN` (`detail: "revoked"`, so that a client gets a new token); anything else
 * ("unavailable", an unknown answer, or a `check` that throws) is `REVOCATION_UNAVAILABLE`
 * (`Unavailable`, no challenge), never a token reason. Synchronous, and allocates nothing: the
 * refusals are frozen constants.
 *
 * ```ts
 * const refusal = revocationRefusal(revocations, subject);
 * if (refusal !== undefined) return refusal;
 * ```
 *
 * Not checked: the subject (see {@link revocationSubjectOf}).
 */
export function revocationRefusal(list: RevocationList, subject: RevocationSubject): AuthOutcome | undefined {
  let answer: unknown;
  try {
    answer = list.check(subject);
  } catch {
    return unavailable; // the list's error may name a host or the subject: not passed on
  }
  return answer === "clear" ? undefined : answer === "revoked" ? revoked : unavailable;
}

/**
 * @internal The `revocation` option of the JWT authenticators, checked at construction.
 *
 * ```ts
 * const revocation = revocationListOption(options.revocation, "createJwtAuthenticator");
 * ```
 *
 * Not checked: that the list is caught up (its `status()` tells, and `check` answers "unavailable").
 *
 * @throws TypeError naming `what` on a value without `check` and `status` functions.
 */
export function revocationListOption(option: RevocationList | undefined, what: string): RevocationList | undefined {
  if (option === undefined) return undefined;
  if (typeof option?.check !== "function" || typeof option.status !== "function") {
    throw new TypeError(`${what}: revocation must be a RevocationList (check and status functions)`);
  }
  return option;
}
