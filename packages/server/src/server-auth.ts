// Longer than most files: it is the one place where the gate, the interceptor and install() meet, and
// the per-call state, readiness and stream lifetimes are wired to them; each part lives in its own module.
import type { ConnectRouter, HandlerContext, Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { validateUniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { type AuthReadiness, type AuthReadinessStatus, type ReadyOptions, createAuthReadiness } from "./auth-readiness.js";
import type { Authenticator } from "./authenticator.js";
import { type AuthorizationOptions, createAuthorization } from "./authorization.js";
import { createCallStates } from "./call-state.js";
import { createCredentialSource } from "./credential-source.js";
import { type DecisionListener, type Verdict, decisionEmitter } from "./decision.js";
import { type Denial, fault, toConnectError } from "./denial.js";
import { type Judgement, createHeaderJudge } from "./header-judge.js";
import { authIdentityKey } from "./identity.js";
import { type PendingCondition, createRequestConditions } from "./request-conditions.js";
import { guardRoutes } from "./route-guard.js";
import { type AdmittedStream, type StreamLifetimeOptions, createStreamLifetimes } from "./stream-lifetime.js";

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
   * Rules set in code, what methods without a rule admit (default: nobody), and the services served.
   * See {@link createAuthorization}.
   */
  readonly authorization?: AuthorizationOptions;
  /**
   * Called once per call with its redacted decision (allowed or denied, reason, authenticator, subject,
   * a short hash of the token, latency). Ready listeners: `@connectauth/server/pino` and
   * `@connectauth/server/otel`. Default: none.
   *
   * For a rule whose CEL condition reads the request message, the event is emitted by the interceptor
   * once the condition has judged the message (unary), or when the request stream is refused or done.
   * A stream that the server ends with its credential (see `streams`) has one more event, at its end.
   */
  readonly onDecision?: DecisionListener;
  /**
   * How long a stream (server, client or bidi) may outlive its credential: one admitted with a token
   * whose `exp` passes while it is open is ended with `TOKEN_EXPIRED` once `exp` plus
   * `clockToleranceSeconds` (default 30) plus `graceSeconds` (default 0) has passed, within 1 s, after
   * the messages already sent; one whose authenticator's `revalidate` rejects the identity (asked about
   * once a second) is ended with that rejection. `endOnExpiry: false` turns the expiry off, `keepOpen`
   * turns it off for some services or methods. The end emits one more decision event for the call
   * (`allowed: false`). See {@link StreamLifetimeOptions}.
   */
  readonly streams?: StreamLifetimeOptions;
  /**
   * Told, once per server, of a setup that works but gives less than it should: `GATE_NOT_RUN` when
   * the interceptor sees a call that no request gate saw (`@connectrpc/connect` before 2.2, which
   * ignores `requestGate`, an adapter that drops it, or the interceptor installed alone): every rule is
   * still enforced, by the interceptor, but only after the request body is read. Default:
   * `console.warn` of the message; `() => {}` silences it where that is the intended setup.
   */
  readonly onWarning?: (warning: ServerAuthWarning) => void;
}

/** What {@link ServerAuthOptions.onWarning} is told. */
export interface ServerAuthWarning {
  /** A stable code: `GATE_NOT_RUN`. */
  readonly code: "GATE_NOT_RUN";
  /** For humans: what happened and the fix. */
  readonly message: string;
}

/**
 * The router options {@link ServerAuth.install} takes: any adapter's (`routes`, `interceptors`,
 * `contextValues`, …), without a `requestGate` of their own.
 */
export interface ServerAuthInstallable {
  readonly routes?: (router: ConnectRouter) => void;
  readonly requestGate?: undefined;
  readonly interceptors?: readonly Interceptor[];
}

/** What {@link ServerAuth.install} adds to router options: connectauth's gate and, first, its interceptor. */
export interface ServerAuthRouterOptions {
  readonly requestGate: (context: HandlerContext) => Promise<void>;
  readonly interceptors: Interceptor[];
}

/**
 * Authentication and authorization for a Connect server. Install it with {@link ServerAuth.install};
 * the gate and the interceptor alone are for setups that cannot take both, and give less.
 */
export interface ServerAuth {
  /**
   * The way to install connectauth: your router options (routes, interceptors, anything else) with
   * connectauth's request gate and, in front of your interceptors, its interceptor. For every adapter:
   *
   * ```ts
   * http2.createServer(connectNodeAdapter(auth.install({ routes })));
   * await app.register(fastifyConnectPlugin, auth.install({ routes, interceptors: [logging] }));
   * app.use(expressConnectMiddleware(auth.install({ routes })));
   * ```
   *
   * The gate refuses a call once its headers are in, before the body is read; the interceptor judges
   * the rules' conditions over the request message once it is parsed: the gate admits such a call only
   * for the interceptor installed with it, so keep the two together (no `interceptors` set after
   * `install`). With `@connectrpc/connect` before 2.2 (no `requestGate`), the interceptor does
   * everything, after the body is read, and `onWarning` says so once.
   *
   * In a CommonJS TypeScript file, where connect's own types and ours may come from its two builds,
   * spread it instead: `connectNodeAdapter({ routes, ...auth.install({ interceptors: [logging] }) })`.
   *
   * @throws TypeError when the options already have a `requestGate` (connectauth's must be the only one).
   */
  install<O extends ServerAuthInstallable = Record<never, never>>(
    options?: O,
  ): Omit<O, "requestGate" | "interceptors"> & ServerAuthRouterOptions;
  /**
   * The request gate alone (`requestGate: auth.requestGate`): every check before the body is read, but
   * it cannot see the request message, so a method whose rule has a condition over `request` is
   * refused (`Internal`, after the caller's credential and scopes pass), never allowed unchecked.
   *
   * @throws TypeError when read with a `@connectrpc/connect` that ignores `requestGate` (before 2.2),
   * where the gate alone would check nothing (use {@link ServerAuth.install}).
   */
  readonly requestGate: (context: HandlerContext) => Promise<void>;
  /**
   * The interceptor (`interceptors: [auth.interceptor]`; also the one {@link ServerAuth.install} adds).
   * Alone, it does every check, conditions included, but after the request body is read (Connect reads
   * it before any interceptor runs), and `onWarning` says so once. After a gate that admitted the
   * call, it only judges the rule's condition over the request message, if there is one.
   */
  readonly interceptor: Interceptor;
  /**
   * Resolves once every authenticator that has a `status` is ready (its keys fetched): asks each one
   * that has `prefetch` to fetch now, then waits. Call it before listening, so that the first calls
   * are not answered `Unavailable` while the keys are still on their way.
   *
   * ```ts
   * await auth.ready({ timeoutMs: 5000 }); // AuthNotReadyError (code AUTH_NOT_READY) after 5 s
   * ```
   *
   * @throws AuthNotReadyError (a rejection, `code: "AUTH_NOT_READY"`) when one is still not ready after
   * `timeoutMs` (default 10000), naming each one and the word of its last error.
   */
  ready(options?: ReadyOptions): Promise<void>;
  /**
   * The status of every authenticator that has one, by name: `{ ready, authenticators: { jwt: { ready,
   * keysAgeMs, lastError, nextFetchAtMs } } }`; ready for a server none of whose authenticators has one.
   */
  status(): AuthReadinessStatus;
  /**
   * The readiness of the authenticators ({@link ServerAuth.ready} and {@link ServerAuth.status} are
   * its), for the health service: `healthRoutes(router, { readiness: auth.readiness })`.
   */
  readonly readiness: AuthReadiness;
}

/**
 * Creates the server side of connectauth: reads the method's rule (proto options), takes exactly one
 * credential, lets the authenticators decide, checks the rule, and puts the caller's identity in the
 * call's context values ({@link getAuth}). Every failure is a `ConnectError` with the contract's code,
 * `ErrorInfo` and challenge.
 *
 * ```ts
 * const auth = createServerAuth({ authenticators: [jwt], realm: "greeter" });
 * http2.createServer(connectNodeAdapter(auth.install({ routes })));
 * ```
 *
 * What belongs to one call is kept by the server for that call, never in state a caller could share:
 * context values that come to a second call (a `contextValues` hook that returns one object for every
 * request), or that already hold an identity, are refused (`Internal`). Exceptions from user code
 * (`authenticate`, `extract`, `authenticateConnection`) are `Internal` without their cause.
 *
 * Open streams end with their credential (see {@link ServerAuthOptions.streams}), and the server
 * knows whether its authenticators are ready ({@link ServerAuth.ready}, {@link ServerAuth.readiness}
 * for grpc.health.v1).
 *
 * @throws TypeError without authenticators, when two of them claim the same scheme or header, two with a
 * `status` share a name, a hook of one is not a function, or on a bad `authorization` or `streams` option.
 */
export function createServerAuth(options: ServerAuthOptions): ServerAuth {
  const realm = options.realm;
  const source = createCredentialSource(options.authenticators, { maxLength: options.maxCredentialLength ?? 8192 });
  const authorization = createAuthorization(options.authorization);
  const judge = createHeaderJudge(source, authorization, options.authenticators);
  const emit = options.onDecision === undefined ? undefined : decisionEmitter(options.onDecision, authorization);
  const withConditions = createRequestConditions(authorization, emit, realm);
  const lifetimes = createStreamLifetimes(options.streams, {
    authenticators: options.authenticators,
    realm,
    emit,
    services: options.authorization?.services,
  });
  const readiness = readinessOf(options.authenticators);
  const now = emit === undefined ? () => 0 : () => performance.now();
  const onWarning = options.onWarning ?? ((w: ServerAuthWarning) => console.warn(w.message));
  let warnedGateNotRun = false;
  const calls = createCallStates<CallState>();
  const newCall = (signal: AbortSignal): CallState => ({ signal, admitted: false, pending: undefined, judgement: undefined });

  /**
   * Admits a call judged from its headers (its identity in its context values), or refuses it. A
   * condition over the request message is left to the interceptor (`"defer"`), or refused when there
   * is none to judge it (`"refuse"`). Returns a promise only when there is something to wait for (an
   * event to emit, a refusal).
   */
  function admit(
    judgement: Judgement,
    values: HandlerContext["values"],
    state: CallState,
    conditions: "defer" | "refuse",
    started: number,
  ): Promise<void> | undefined {
    const { denial, identity, method } = judgement;
    if (denial !== undefined) return refuse({ ...judgement, denial }, started);
    if (authorization.readsRequest(method)) {
      // Never a public method, so there is an identity; without one, refuse all the same.
      if (conditions === "refuse" || identity === undefined) {
        return refuse({ ...judgement, denial: fault(conditionNeedsInterceptor(method)) }, started);
      }
      values.set(authIdentityKey, identity);
      // Judged with the request message by the interceptor; the event waits for that.
      state.pending = { verdict: judgement, identity, durationMs: now() - started };
      state.admitted = true;
      state.judgement = judgement;
      return undefined;
    }
    if (identity !== undefined) {
      values.set(authIdentityKey, identity);
      state.judgement = judgement;
    }
    state.admitted = true;
    if (emit !== undefined && identity !== undefined && conditions === "defer" && authorization.candidateReadsRequest(method)) {
      // Only the candidate rule reads the request: the event waits for the interceptor to judge it.
      state.pending = { verdict: judgement, identity, durationMs: now() - started };
      return undefined;
    }
    return emit === undefined ? undefined : emit(judgement, now() - started);
  }

  async function refuse(verdict: Verdict & { readonly denial: Denial }, started: number): Promise<never> {
    await emit?.(verdict, now() - started);
    throw toConnectError(verdict.denial, realm);
  }

  function gate(conditions: "defer" | "refuse") {
    return (context: HandlerContext): Promise<void> => {
      const started = now();
      const { method, values } = context;
      const entered = calls.enter(values, context.signal, newCall);
      if (!("state" in entered)) return refuse({ method, denial: entered }, started);
      if (!entered.started)
        return refuse({ method, denial: fault("connectauth: the request gate ran twice for one call") }, started);
      const { state } = entered;
      const { requestHeader, requestMethod, url } = context;
      return judge(method, { values, requestHeader, requestMethod, url }).then((judgement) =>
        admit(judgement, values, state, conditions, started),
      );
    };
  }

  function interceptor(): Interceptor {
    return (next) => (req) => {
      const entered = calls.enter(req.contextValues, req.signal, newCall);
      if (!("state" in entered)) return refuse({ method: req.method, denial: entered }, now());
      if (!entered.started) return proceed(next, req, entered.state);
      // The gate did not see this call (it did not run): everything is checked here.
      if (!warnedGateNotRun) {
        warnedGateNotRun = true;
        try {
          onWarning({ code: "GATE_NOT_RUN", message: gateNotRunMessage });
        } catch {
          // A warning hook cannot fail a call.
        }
      }
      const { state } = entered;
      const started = now();
      const call = { values: req.contextValues, requestHeader: req.header, requestMethod: req.requestMethod, url: req.url };
      return judge(req.method, call)
        .then((judgement) => admit(judgement, req.contextValues, state, "defer", started))
        .then(() => proceed(next, req, state));
    };
  }

  /** Hands an admitted call on, with its rule's condition over the request judged if it has one. */
  function proceed(next: InterceptorNext, req: UnaryRequest | StreamRequest, state: CallState): ReturnType<InterceptorNext> {
    if (!state.admitted) {
      // Not reachable: a call the gate refused never gets here. Refuse regardless.
      return refuse({ method: req.method, denial: fault("connectauth: the call was not admitted") }, now());
    }
    const pending = state.pending;
    if (!req.stream) {
      if (pending === undefined) return next(req);
      state.pending = undefined;
      return withConditions(next, req, pending);
    }
    state.pending = undefined;
    const inner: InterceptorNext = pending === undefined ? next : (r) => withConditions(next, r, pending);
    // A stream with an identity ends with its credential.
    const admitted = state.judgement;
    return admitted?.identity === undefined ? inner(req) : lifetimes(inner, req, admitted as AdmittedStream);
  }

  const theInterceptor = interceptor();
  const deferringGate = gate("defer");
  function install<O extends ServerAuthInstallable = Record<never, never>>(
    routerOptions?: O,
  ): Omit<O, "requestGate" | "interceptors"> & ServerAuthRouterOptions {
    if (routerOptions?.requestGate !== undefined) {
      throw new TypeError(
        "ServerAuth.install: the router options already have a requestGate; connectauth's gate must be the only one",
      );
    }
    const interceptors = [theInterceptor, ...(routerOptions?.interceptors ?? [])];
    const installed = { ...routerOptions, requestGate: deferringGate, interceptors };
    if (routerOptions?.routes !== undefined)
      installed.routes = guardRoutes(routerOptions.routes, (m) => authorization.readsRequest(m), judged);
    return installed as Omit<O, "requestGate" | "interceptors"> & ServerAuthRouterOptions;
  }

  /**
   * Whether a call to a method whose rule reads the request had that condition judged: admitted, and
   * nothing pending. Checked again by the handlers of routes given to install(), so that a call whose
   * interceptor was dropped after install ({ ...auth.install(o), interceptors: [] }) is refused there.
   */
  function judged(method: DescMethod, values: HandlerContext["values"]): Denial | undefined {
    const state = calls.peek(values);
    if (state?.admitted && state.pending === undefined) return undefined;
    return fault(
      `connectauth: the condition of ${method.parent.typeName}/${method.name} over the request was not judged: ` +
        "auth.interceptor is missing from the router's interceptors (give yours to auth.install instead)",
    );
  }
  const gateAlone = gate("refuse");
  return {
    install,
    get requestGate() {
      // Alone, the gate is all there is: where connect ignores it, nothing at all would be checked.
      if (!connectRunsRequestGates()) throw new TypeError(gateIgnoredMessage);
      return gateAlone;
    },
    interceptor: theInterceptor,
    ready(readyOptions) {
      // Those without a status cannot be waited for: asked to fetch all the same.
      for (const a of options.authenticators) {
        if (a.prefetch !== undefined && a.status === undefined) {
          void Promise.resolve()
            .then(() => a.prefetch?.())
            .catch(() => undefined);
        }
      }
      return readiness.ready(readyOptions);
    },
    status: () => readiness.status(),
    readiness,
  };
}

const hooks = ["revalidate", "status", "prefetch", "onStatusChange"] as const;

/** The readiness over the authenticators that have a `status`, with their `prefetch` and `onStatusChange`. */
function readinessOf(authenticators: readonly Authenticator[]): AuthReadiness {
  const names = new Set<string>();
  for (const a of authenticators) {
    for (const hook of hooks) {
      if (a[hook] !== undefined && typeof a[hook] !== "function") {
        throw new TypeError(`createServerAuth: ${hook} of authenticator "${a.name}" must be a function`);
      }
    }
    if (a.status === undefined) continue;
    if (names.has(a.name)) throw new TypeError(`createServerAuth: two authenticators with a status are named "${a.name}"`);
    names.add(a.name);
  }
  return createAuthReadiness(
    authenticators.flatMap((a) => {
      const { status, prefetch, onStatusChange } = a;
      if (status === undefined) return [];
      return [
        {
          name: a.name,
          status: () => status.call(a),
          ...(prefetch === undefined ? {} : { prefetch: () => prefetch.call(a) }),
          ...(onStatusChange === undefined ? {} : { onChange: (listener: () => void) => onStatusChange.call(a, listener) }),
        },
      ];
    }),
  );
}

/** What the server keeps of one call between its gate and its interceptor. */
interface CallState {
  /** The call's own signal: what tells it from another call that got the same context values. */
  readonly signal: AbortSignal;
  /** Whether the call passed every check that its headers allow. */
  admitted: boolean;
  /** A condition over the request message still to judge. */
  pending: PendingCondition | undefined;
  /** The verdict that admitted the call with an identity: what a stream's lifetime watches. */
  judgement: Judgement | undefined;
}

function conditionNeedsInterceptor(method: DescMethod): string {
  return (
    `connectauth: the rule of ${method.parent.typeName}/${method.name} has a condition over the request message, ` +
    `which the request gate alone cannot check: install auth.install(options) (gate and interceptor), or auth.interceptor`
  );
}

/** Whether this `@connectrpc/connect` runs a router's `requestGate` (2.2.0 and later): it keeps it in its handler options. */
function connectRunsRequestGates(): boolean {
  const probe = async () => {};
  return (validateUniversalHandlerOptions({ requestGate: probe }) as { requestGate?: unknown }).requestGate === probe;
}

const gateIgnoredMessage =
  "ServerAuth.requestGate: this @connectrpc/connect ignores requestGate (it needs 2.2 or later), so the gate alone " +
  "would check nothing: install with auth.install(options), whose interceptor checks every call";

const gateNotRunMessage =
  "connectauth: the request gate did not run (requestGate needs @connectrpc/connect 2.2 or later), so credentials " +
  "are checked by the interceptor, after the request body is read. Every rule is still enforced. To refuse calls " +
  "before their body is read, use @connectrpc/connect >= 2.2 and give the adapter auth.install(options).";

type InterceptorNext = Parameters<Interceptor>[0];
