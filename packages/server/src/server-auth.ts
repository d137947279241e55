import {
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  createContextKey,
} from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { Reason, createAuthError } from "@connectauth/core";
import { type AuthCall, type AuthOutcome, type Authenticator, authenticatorFailed } from "./authenticator.js";
import { type AuthorizationOptions, createAuthorization } from "./authorization.js";
import { createCredentialSource } from "./credential-source.js";
import { authIdentityKey } from "./identity.js";
import { type DecisionListener, type DecisionTrace, type HeldDecision, recordDecisions } from "./decision.js";

/** Options of {@link createServerAuth}. */
export interface ServerAuthOptions {
  /**
   * The authenticators, chosen by where the presented credential is: the one that takes its
   * `Authorization` scheme, the one that named its header (`Authenticator.headers`, e.g. an API key
   * in `x-api-key`), or the one whose `extract` found it. At least one; no scheme or header taken twice.
   */
  readonly authenticators: readonly Authenticator[];
  /** The `realm` of `WWW-Authenticate` challenges. Default: none. */
  readonly realm?: string;
  /** The largest credential header (`Authorization` or another) accepted, in characters. Default 8192. */
  readonly maxCredentialLength?: number;
  /**
   * Rules set in code, what methods without a rule admit (default: nobody), and the services whose
   * conditions compile at start. See {@link createAuthorization}.
   */
  readonly authorization?: AuthorizationOptions;
  /**
   * Called once per call with its redacted decision (allowed or denied, reason, authenticator, subject,
   * a short hash of the token, latency). Ready listeners: `@connectauth/server/pino` and
   * `@connectauth/server/otel`. Default: none.
   *
   * For a rule whose CEL condition reads the request message, the event is emitted by the interceptor
   * once the handler is done with the request (denied if the condition refused a message). With the
   * gate alone and no interceptor, such conditions do not run, and their allowed events are not emitted.
   */
  readonly onDecision?: DecisionListener;
}

/**
 * Authentication and authorization for a Connect server, in the two forms Connect can run it.
 */
export interface ServerAuth {
  /**
   * For the `requestGate` router option (`@connectrpc/connect` ≥ 2.3): runs once the request headers are
   * in, before the request body is read, so a rejected call costs no body reading or parsing.
   */
  readonly requestGate: (context: HandlerContext) => Promise<void>;
  /**
   * For the `interceptors` router option: does what the gate does when the gate did not run (Connect
   * before 2.3, or a router set up without it), and nothing when it did. Install both.
   */
  readonly interceptor: Interceptor;
}

// Set once the checks of a call have run, so that gate and interceptor never both run them.
const checkedKey = createContextKey(false, { description: "connectauth checked" });
// The held-back decision event of a call whose rule has a condition over the request message.
const heldDecisionKey = createContextKey<HeldDecision | undefined>(undefined, { description: "connectauth held decision" });

/**
 * Creates the server side of connectauth: reads the method's rule (proto options), takes exactly one
 * credential from the `Authorization` header, lets the authenticators decide, checks the rule's scopes,
 * and puts the caller's identity in the context values ({@link getAuth}). Every failure is a
 * `ConnectError` with the contract's code, `ErrorInfo` and challenge.
 *
 * ```ts
 * const auth = createServerAuth({ authenticators: [jwt], realm: "greeter" });
 * http2.createServer(
 *   connectNodeAdapter({ routes, requestGate: auth.requestGate, interceptors: [auth.interceptor] }),
 * );
 * ```
 *
 * @throws TypeError without authenticators, or when two of them claim the same scheme or header.
 */
export function createServerAuth(options: ServerAuthOptions): ServerAuth {
  const realm = options.realm;
  const maxLength = options.maxCredentialLength ?? 8192;
  // Exactly one credential, from Authorization, a named header or an authenticator's extract().
  const source = createCredentialSource(options.authenticators, { maxLength, realm });
  const accepted = source.schemes.join(", ");
  const authorization = createAuthorization({ ...options.authorization, realm });
  const record = options.onDecision === undefined ? undefined : recordDecisions(options.onDecision);
  const connectionAuthenticators = options.authenticators.filter((a) => a.authenticateConnection !== undefined);

  /** Runs the checks of a call, unless they already ran for it (then `undefined`: nothing to wait for). */
  function check(method: DescMethod, header: Headers, values: ContextValues): Promise<void> | undefined {
    if (values.get(checkedKey)) {
      return undefined;
    }
    values.set(checkedKey, true);
    if (record === undefined) {
      return decide(method, header, values, {});
    }
    return recordAndDecide(record, method, header, values);
  }

  async function recordAndDecide(
    recordOne: ReturnType<typeof recordDecisions>,
    method: DescMethod,
    header: Headers,
    values: ContextValues,
  ): Promise<void> {
    // A condition over the request message is judged later, in the interceptor: an allowed decision of
    // such a method is held back until then, so that the call still has exactly one decision event.
    const held = await recordOne(method, (trace) => decide(method, header, values, trace), authorization.readsRequest(method));
    if (held !== undefined) values.set(heldDecisionKey, held);
  }

  async function decide(method: DescMethod, header: Headers, values: ContextValues, trace: DecisionTrace): Promise<void> {
    const rule = authorization.ruleOf(method);
    const found = source.read(header);
    const call: AuthCall = { values, requestHeader: header };
    // Without a credential in the headers, a credential of the connection (a TLS client certificate) may decide.
    const fromConnection =
      found === undefined && connectionAuthenticators.length > 0 ? await authenticateConnection(call) : undefined;
    if (found === undefined && fromConnection === undefined) {
      if (rule.public) {
        return;
      }
      throw createAuthError(Reason.MissingCredentials, { realm });
    }
    if (found !== undefined) trace.credential = found.credentials.value;
    const authenticator = fromConnection?.authenticator ?? found!.authenticator;
    if (authenticator === undefined) {
      throw createAuthError(Reason.MalformedCredentials, {
        realm,
        // The scheme is not echoed: a bare token with a space in it would be read as the scheme.
        message: `the auth scheme is not accepted here (accepted: ${accepted})`,
      });
    }
    trace.authenticator = authenticator.name;
    let outcome: AuthOutcome;
    try {
      outcome = fromConnection?.outcome ?? found!.remembered ?? (await authenticator.authenticate(found!.credentials, call));
    } catch {
      throw authenticatorFailed(authenticator);
    }
    if (!outcome.ok) {
      const metadata: Record<string, string> = { authenticator: authenticator.name };
      if (outcome.detail !== undefined) metadata["detail"] = outcome.detail;
      throw createAuthError(outcome.reason, { realm, message: outcome.message, metadata });
    }
    trace.subject = outcome.identity.subject;
    authorization.authorize(method, outcome.identity);
    values.set(authIdentityKey, outcome.identity);
  }

  /** The first answer of an authenticator that reads connection credentials, or `undefined`. */
  async function authenticateConnection(
    call: AuthCall,
  ): Promise<{ authenticator: Authenticator; outcome: AuthOutcome } | undefined> {
    for (const authenticator of connectionAuthenticators) {
      let outcome: AuthOutcome | undefined;
      try {
        outcome = await authenticator.authenticateConnection!(call);
      } catch {
        throw authenticatorFailed(authenticator);
      }
      if (outcome !== undefined) return { authenticator, outcome };
    }
    return undefined;
  }

  return {
    requestGate: (context) => check(context.method, context.requestHeader, context.values) ?? Promise.resolve(),
    interceptor: (next) => (req) => {
      const checking = check(req.method, req.header, req.contextValues);
      return checking === undefined ? proceed(next, req) : checking.then(() => proceed(next, req));
    },
  };

  /**
   * Hands a checked call on, through the rule's condition over the request; a held-back decision event
   * is emitted once the handler is done with the request. Returns `next`'s own promise when there is no
   * such event (no extra promise on the common path).
   */
  function proceed(next: InterceptorNext, req: InterceptorRequest): ReturnType<InterceptorNext> {
    const held = req.contextValues.get(heldDecisionKey);
    if (held === undefined) {
      try {
        return next(authorization.guardRequest(req));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    req.contextValues.delete(heldDecisionKey);
    return (async () => {
      try {
        const res = await next(authorization.guardRequest(req));
        await held();
        return res;
      } catch (error) {
        await held(error);
        throw error;
      }
    })();
  }
}

type InterceptorNext = Parameters<Interceptor>[0];
type InterceptorRequest = Parameters<InterceptorNext>[0];

