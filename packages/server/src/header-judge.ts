import type { DescMethod } from "@bufbuild/protobuf";
import type { ContextValues } from "@connectrpc/connect";
import { Reason } from "@connectauth/core";
import { type AuthCall, type AuthOutcome, type Authenticator, authenticatorFault } from "./authenticator.js";
import type { Authorization } from "./authorization.js";
import type { CredentialSource } from "./credential-source.js";
import type { Verdict } from "./decision.js";
import { type Denial, deny } from "./denial.js";
import type { AuthIdentity } from "./identity.js";

/** A verdict from a call's headers, with the identity it established (when a credential was accepted). */
export interface Judgement extends Verdict {
  readonly identity?: AuthIdentity;
}

/**
 * Judges a call from its headers alone, in this order: exactly one credential (headers, or the
 * connection's when the headers carry none), the authenticator that takes it, then the method's rule
 * as far as it needs only the identity. Returns the verdict as a value; exceptions from authenticators
 * are faults without their cause.
 *
 * ```ts
 * const judge = createHeaderJudge(source, authorization, authenticators);
 * const { denial, identity } = await judge(method, req.header, req.contextValues);
 * ```
 *
 * Not judged here: a condition over the request message (see `Authorization.authorizeRequest`).
 */
export function createHeaderJudge(
  source: CredentialSource,
  authorization: Authorization,
  authenticators: readonly Authenticator[],
): (method: DescMethod, header: Headers, values: ContextValues) => Promise<Judgement> {
  const connectionAuthenticators = authenticators.flatMap((authenticator) =>
    authenticator.authenticateConnection === undefined
      ? []
      : [{ authenticator, authenticateConnection: authenticator.authenticateConnection }],
  );

  /** The first answer of an authenticator that reads connection credentials, or `undefined`. */
  async function authenticateConnection(
    call: AuthCall,
  ): Promise<{ authenticator: Authenticator; outcome: AuthOutcome } | Denial | undefined> {
    for (const { authenticator, authenticateConnection } of connectionAuthenticators) {
      let outcome: AuthOutcome | undefined;
      try {
        outcome = await authenticateConnection.call(authenticator, call);
      } catch {
        return authenticatorFault(authenticator);
      }
      if (outcome !== undefined) return { authenticator, outcome };
    }
    return undefined;
  }

  return async (method, header, values) => {
    const found = source.read(header, values);
    if (found !== undefined && !("credentials" in found)) return { method, denial: found };
    const call: AuthCall = { values, requestHeader: header };
    let authenticator: Authenticator;
    let outcome: AuthOutcome;
    if (found !== undefined) {
      authenticator = found.authenticator;
      try {
        outcome = await authenticator.authenticate(found.credentials, call);
      } catch {
        return {
          method,
          authenticator: authenticator.name,
          credential: found.credentials.value,
          denial: authenticatorFault(authenticator),
        };
      }
    } else {
      const connection = await authenticateConnection(call);
      if (connection === undefined) {
        return { method, denial: authorization.ruleOf(method).public ? undefined : deny(Reason.MissingCredentials) };
      }
      if (!("outcome" in connection)) return { method, denial: connection };
      ({ authenticator, outcome } = connection);
    }
    const name = authenticator.name;
    const credential = found?.credentials.value;
    if (!outcome.ok) {
      const metadata: Record<string, string> = { authenticator: name };
      if (outcome.detail !== undefined) metadata["detail"] = outcome.detail;
      return { method, authenticator: name, credential, denial: deny(outcome.reason, { message: outcome.message, metadata }) };
    }
    const identity = outcome.identity;
    const denial = authorization.authorize(method, identity);
    return { method, authenticator: name, credential, subject: identity.subject, identity, denial };
  };
}
