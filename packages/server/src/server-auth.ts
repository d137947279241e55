import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  createContextKey,
} from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Reason,
  authorizationHeader,
  createAuthError,
  missingScopes,
  parseAuthorization,
  ruleOf,
} from "@connectauth/core";
import type { Authenticator } from "./authenticator.js";
import { authIdentityKey } from "./identity.js";
import { type DecisionListener, type DecisionTrace, recordDecisions } from "./decision.js";

/** Options of {@link createServerAuth}. */
export interface ServerAuthOptions {
  /**
   * The authenticators, tried by the scheme of the presented credential: the first one that takes the
   * scheme decides. At least one.
   */
  readonly authenticators: readonly Authenticator[];
  /** The `realm` of `WWW-Authenticate` challenges. Default: none. */
  readonly realm?: string;
  /** The largest `Authorization` header accepted, in characters. Default 8192. */
  readonly maxCredentialLength?: number;
  /**
   * Called once per call with its redacted decision (allowed or denied, reason, authenticator, subject,
   * a short hash of the token, latency). Ready listeners: `@connectauth/server/pino` and
   * `@connectauth/server/otel`. Default: none.
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
 * @throws TypeError without authenticators, or when two of them claim the same scheme.
 */
export function createServerAuth(options: ServerAuthOptions): ServerAuth {
  const bySchemes = indexBySchemes(options.authenticators);
  const realm = options.realm;
  const maxLength = options.maxCredentialLength ?? 8192;
  const accepted = [...bySchemes.keys()].join(", ");
  const record = recordDecisions(options.onDecision);

  async function check(method: DescMethod, header: Headers, values: ContextValues): Promise<void> {
    if (values.get(checkedKey)) {
      return;
    }
    values.set(checkedKey, true);
    await record(method, (trace) => decide(method, header, values, trace));
  }

  async function decide(method: DescMethod, header: Headers, values: ContextValues, trace: DecisionTrace): Promise<void> {
    const rule = ruleOf(method);
    const credentials = parseAuthorization(header.get(authorizationHeader), { maxLength, realm });
    if (credentials === undefined) {
      if (rule.public) {
        return;
      }
      throw createAuthError(Reason.MissingCredentials, { realm });
    }
    trace.credential = credentials.value;
    const authenticator = bySchemes.get(credentials.scheme);
    if (authenticator === undefined) {
      throw createAuthError(Reason.MalformedCredentials, {
        realm,
        // The scheme is not echoed: a bare token with a space in it would be read as the scheme.
        message: `the auth scheme is not accepted here (accepted: ${accepted})`,
      });
    }
    trace.authenticator = authenticator.name;
    let outcome;
    try {
      outcome = await authenticator.authenticate(credentials);
    } catch {
      // Deliberately without the cause: it may hold the credential.
      throw new ConnectError(`authenticator "${authenticator.name}" failed`, Code.Internal);
    }
    if (!outcome.ok) {
      const metadata: Record<string, string> = { authenticator: authenticator.name };
      if (outcome.detail !== undefined) metadata["detail"] = outcome.detail;
      throw createAuthError(outcome.reason, { realm, message: outcome.message, metadata });
    }
    trace.subject = outcome.identity.subject;
    const missing = missingScopes(rule, outcome.identity.scopes);
    if (missing.length > 0) {
      throw createAuthError(Reason.InsufficientScope, {
        realm,
        requiredScopes: requiredScopes(rule, outcome.identity.scopes),
        metadata: { authenticator: authenticator.name, missing_scopes: missing.join(" ") },
      });
    }
    values.set(authIdentityKey, outcome.identity);
  }

  return {
    requestGate: (context) => check(context.method, context.requestHeader, context.values),
    interceptor: (next) => async (req) => {
      await check(req.method, req.header, req.contextValues);
      return next(req);
    },
  };
}

/** The scopes a token must carry for the rule: all of `allScopes`, and `anyScopes` when none is granted. */
function requiredScopes(
  rule: { allScopes: readonly string[]; anyScopes: readonly string[] },
  granted: ReadonlySet<string>,
): string[] {
  const anySatisfied = rule.anyScopes.length === 0 || rule.anyScopes.some((s) => granted.has(s));
  return anySatisfied ? [...rule.allScopes] : [...rule.allScopes, ...rule.anyScopes];
}

function indexBySchemes(authenticators: readonly Authenticator[]): Map<string, Authenticator> {
  if (!Array.isArray(authenticators) || authenticators.length === 0) {
    throw new TypeError("createServerAuth: at least one authenticator is required");
  }
  const map = new Map<string, Authenticator>();
  for (const a of authenticators) {
    for (const scheme of a.schemes) {
      const key = scheme.toLowerCase();
      if (map.has(key)) {
        throw new TypeError(
          `createServerAuth: authenticators "${map.get(key)!.name}" and "${a.name}" both take the "${key}" scheme`,
        );
      }
      map.set(key, a);
    }
  }
  return map;
}
