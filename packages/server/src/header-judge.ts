import type { DescMethod } from "@bufbuild/protobuf";
import { Reason } from "@connectauth/core";
import { type AuthCall, type AuthOutcome, type Authenticator, authenticatorFault } from "./authenticator.js";
import type { Authorization } from "./authorization.js";
import type { CredentialSource } from "./credential-source.js";
import { checksCredentialSyntax } from "./credential-syntax.js";
import type { Verdict } from "./decision.js";
import { type AuthChallenge, type Denial, deny } from "./denial.js";
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
 * Challenges: a call without a usable credential is answered with what the server's authenticators
 * ask for ({@link CredentialSource.challenge}); an authenticator's rejection with the challenge it
 * gave; a refusal of the rule after a call made with the `DPoP` scheme with a `DPoP` challenge (the
 * algorithms of its authenticator), which the verdict also carries for a condition judged later.
 *
 * ```ts
 * const judge = createHeaderJudge(source, authorization, authenticators);
 * const { denial, identity } = await judge(method, {
 *   values: req.contextValues, requestHeader: req.header, requestMethod: req.requestMethod, url: req.url,
 * });
 * ```
 *
 * Not judged here: a condition over the request message (see `Authorization.authorizeRequest`).
 */
export function createHeaderJudge(
  source: CredentialSource,
  authorization: Authorization,
  authenticators: readonly Authenticator[],
): (method: DescMethod, call: AuthCall) => Promise<Judgement> {
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

  const missing = deny(Reason.MissingCredentials, source.challenge === undefined ? {} : { challenge: source.challenge });

  return async (method, call) => {
    const found = source.read(call.requestHeader, call.values);
    if (found !== undefined && !("credentials" in found)) return { method, denial: found };
    let authenticator: Authenticator;
    let outcome: AuthOutcome;
    if (found !== undefined) {
      authenticator = found.authenticator;
      const { credentials, unscanned } = found;
      // Read once: the function whose checks decide whether the credential is scanned first.
      const authenticate = authenticator.authenticate;
      // An unscanned credential is scanned before the authenticator reads it, unless it checks the
      // syntax itself: then only if it refuses it, to refuse it as the source does.
      const scanIfRefused = unscanned === true && checksCredentialSyntax(authenticate);
      const malformed = unscanned === true && !scanIfRefused ? source.syntaxRefusal(credentials.value) : undefined;
      if (malformed !== undefined) return { method, denial: malformed };
      try {
        outcome = await authenticate.call(authenticator, credentials, call);
      } catch {
        const denial = scanIfRefused ? source.syntaxRefusal(credentials.value) : undefined;
        if (denial !== undefined) return { method, denial };
        const { name } = authenticator;
        return { method, authenticator: name, credential: credentials.value, denial: authenticatorFault(authenticator) };
      }
      if (!outcome.ok && scanIfRefused) {
        const denial = source.syntaxRefusal(credentials.value);
        if (denial !== undefined) return { method, denial };
      }
    } else {
      const connection = await authenticateConnection(call);
      if (connection === undefined) {
        return { method, denial: authorization.ruleOf(method).public ? undefined : missing };
      }
      if (!("outcome" in connection)) return { method, denial: connection };
      ({ authenticator, outcome } = connection);
    }
    const name = authenticator.name;
    const credential = found?.credentials.value;
    const dpop = found?.credentials.scheme === "dpop";
    if (!outcome.ok) {
      const metadata: Record<string, string> = { authenticator: name };
      if (outcome.detail !== undefined) metadata["detail"] = outcome.detail;
      const { message, challenge } = outcome;
      const denial = deny(outcome.reason, challenge === undefined ? { message, metadata } : { message, metadata, challenge });
      return { method, authenticator: name, credential, dpop, denial };
    }
    const identity = outcome.identity;
    const challenge = dpop ? dpopChallengeOf(authenticator) : undefined;
    const refused = authorization.authorize(method, identity);
    const denial = refused === undefined || challenge === undefined ? refused : { ...refused, challenge };
    const judgement = { method, authenticator: name, credential, dpop, subject: identity.subject, identity, denial };
    return challenge === undefined ? judgement : { ...judgement, challenge };
  };
}

/** The challenge of a refusal of the rule after a call made with the `DPoP` scheme. */
function dpopChallengeOf(authenticator: Authenticator): AuthChallenge {
  const algorithms = authenticator.challenge?.dpopAlgorithms;
  return algorithms === undefined ? { schemes: ["DPoP"] } : { schemes: ["DPoP"], dpopAlgorithms: algorithms };
}
