import { Code, ConnectError, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import type { AuthReadinessStatus } from "./auth-readiness.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/grpc/health/v1/health_pb.js";
import { formatReadinessHeader, readinessHeader } from "./readiness-header.js";

/**
 * What the health service reads of the authenticators' readiness: what `createAuthReadiness` returns
 * (and what `createServerAuth` exposes).
 */
export interface HealthReadiness {
  /**
   * Whether every authenticator can decide on credentials now; with `authenticators`, each one's
   * status by name (its `ready` and `lastError` word go into {@link readinessHeader}).
   */
  status(): Pick<AuthReadinessStatus, "ready"> & Partial<Pick<AuthReadinessStatus, "authenticators">>;
  /** Calls `listener` on every change of readiness; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Asks the authenticators that are not ready to fetch now. Optional. */
  prefetch?(): Promise<void>;
}

/** Options of {@link createHealthService}. */
export interface HealthServiceOptions {
  /** The authenticators' readiness: NOT_SERVING while they are not ready. */
  readonly readiness: HealthReadiness;
  /**
   * The services whose health can be asked by name (`"example.v1.GreeterService"`), besides the
   * server's overall health (`""`). Any other name is unknown: `NotFound` for Check,
   * `SERVICE_UNKNOWN` for Watch. Default: none.
   */
  readonly services?: readonly string[];
  /**
   * Your own checks, by a name of yours (`{ database: () => pool.healthy() }`): each one must answer
   * `true` for the server and every listed service to be SERVING. A check that throws, rejects, answers
   * anything but `true`, or takes longer than 1 s fails. Run at most once per 500 ms (answers are
   * shared by all calls in between).
   */
  readonly checks?: Readonly<Record<string, () => boolean | Promise<boolean>>>;
  /** The clock of the checks' 500 ms, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Whether Check answers with the {@link readinessHeader} header: why the server is (not) ready, in
   * fixed words (`auth:jwt=network, check:database=ok`), never a URL, a key or a message. Default
   * `true`; `false` when who may ask the health service must not learn the names of your
   * authenticators and checks.
   */
  readonly readinessHeader?: boolean;
}

const what = "createHealthService";
/** The checks run at most this often, and a Watch looks at them this often. */
const checkEvery = 500;
/** A check that has not answered by then fails. */
const checkTimeout = 1000;
/** List refuses more, as the spec allows. */
const maxListed = 100;

/**
 * gRPC's standard health service (`grpc.health.v1.Health`, as grpc/grpc-proto defines it) that knows
 * about auth: SERVING once the authenticators are ready (their keys fetched) and your own checks
 * pass, NOT_SERVING otherwise, so that a load balancer stops sending calls that could only fail with
 * `Unavailable`. Check answers the overall health (`""`) and each listed service's (the same status),
 * with the {@link readinessHeader} header (why, in fixed words); an unknown name is `NotFound`. Watch sends the current status, then each change within 1 s, until
 * the call ends. List answers every known name. Asked while not ready, each call also asks the
 * authenticators to fetch their keys (within their backoff), and a Watch makes them retry in the
 * background while they are down.
 *
 * ```ts
 * const health = createHealthService({ readiness, services: [GreeterService.typeName] });
 * connectNodeAdapter({ routes: (router) => router.service(GreeterService, greeter).service(Health, health) });
 * // connectauth's rules must let it through: rules: { "grpc.health.v1.Health": { public: true } }
 * ```
 *
 * Not checked: who calls it (make it public in connectauth's rules, or give it a rule of its own; the
 * readiness header names your authenticators and checks, `readinessHeader: false` drops it), and that
 * the listed services are served.
 *
 * @throws TypeError when `readiness` has no `status` and `onChange` functions, `services` is not a list
 * of distinct non-empty names, a check is not a function, `now` is not a function, or
 * `readinessHeader` is not a boolean.
 */
export function createHealthService(options: HealthServiceOptions): ServiceImpl<typeof Health> {
  const { readiness, known, checks, now, header } = checkOptions(options);
  let lastRun: { readonly at: number; readonly results: Promise<readonly boolean[]> } | undefined;
  /** Each check's answer, in the order of `checks`: run at most once per 500 ms. */
  const checkResults = (): Promise<readonly boolean[]> => {
    if (checks.length === 0) return Promise.resolve([]);
    const at = now();
    if (lastRun === undefined || at - lastRun.at >= checkEvery) {
      lastRun = { at, results: Promise.all(checks.map(([, check]) => runCheck(check))) };
    }
    return lastRun.results;
  };
  const authStatus = (): ReturnType<HealthReadiness["status"]> => {
    try {
      return readiness.status();
    } catch {
      return { ready: false };
    }
  };
  const authReady = (): boolean => authStatus().ready === true;
  // Asked while not ready: the authenticators fetch now (within their backoff), so that a server no one
  // sends calls to still gets its keys.
  const fetchIfNotReady = () => {
    if (!authReady())
      void Promise.resolve()
        .then(() => readiness.prefetch?.())
        .catch(() => undefined);
  };
  const statusOf = (ready: boolean, results: readonly boolean[]) =>
    ready && results.every((ok) => ok) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  const serving = async (): Promise<ServingStatus> => statusOf(authReady(), await checkResults());

  return {
    async check(request, context) {
      if (!known.has(request.service)) throw new ConnectError("unknown service", Code.NotFound);
      fetchIfNotReady();
      const auth = authStatus();
      const results = await checkResults();
      if (header) {
        const named = checks.map(([name], i) => [name, results[i] === true] as const);
        const value = formatReadinessHeader(auth.authenticators ?? {}, named);
        if (value !== "") context.responseHeader.set(readinessHeader, value);
      }
      return { status: statusOf(auth.ready === true, results) };
    },
    async list() {
      if (known.size > maxListed) throw new ConnectError("too many services", Code.ResourceExhausted);
      fetchIfNotReady();
      const status = await serving();
      return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
    },
    async *watch(request, context) {
      const { signal } = context;
      if (!known.has(request.service)) {
        // The spec: SERVICE_UNKNOWN, and the call stays open (our list of services never changes).
        yield { status: ServingStatus.SERVICE_UNKNOWN };
        await untilAborted(signal);
        return;
      }
      fetchIfNotReady();
      yield* watchStatus(serving, readiness, checks.length > 0, signal);
    },
  };
}

/**
 * Serves {@link createHealthService} on `router`: `grpc.health.v1.Health` with Check, List and Watch.
 *
 * ```ts
 * connectNodeAdapter({ routes: (router) => healthRoutes(router.service(GreeterService, greeter), { readiness }) });
 * ```
 *
 * Not checked: anything {@link createHealthService} does not check.
 */
export function healthRoutes(router: ConnectRouter, options: HealthServiceOptions): ConnectRouter {
  return router.service(Health, createHealthService(options));
}

/**
 * The statuses of one Watch: the current one, then each change, woken by the readiness' events and,
 * with checks, every 500 ms. Ends when `signal` aborts: the listener and the timer are dropped on the
 * abort itself, since a generator whose call was cancelled may never be resumed (nor its `finally` run).
 */
async function* watchStatus(
  serving: () => Promise<ServingStatus>,
  readiness: HealthReadiness,
  polled: boolean,
  signal: AbortSignal,
): AsyncGenerator<{ status: ServingStatus }> {
  let sent: ServingStatus | undefined;
  let changed = false;
  let ended = false;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poke = () => {
    changed = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stop = readiness.onChange(poke);
  const end = () => {
    if (ended) return;
    ended = true;
    stop();
    clearTimeout(timer);
    signal.removeEventListener("abort", end);
    poke();
  };
  signal.addEventListener("abort", end);
  if (signal.aborted) end();
  try {
    while (!ended) {
      changed = false;
      const status = await serving();
      if (ended) return;
      if (status !== sent) {
        sent = status;
        yield { status };
      }
      await new Promise<void>((resolve) => {
        if (changed || ended) {
          resolve();
          return;
        }
        wake = resolve;
        if (polled) timer = setTimeout(poke, checkEvery);
      });
      clearTimeout(timer);
      timer = undefined;
    }
  } finally {
    end();
  }
}

/** Whether one check passes: `true` within 1 s; a throw, a rejection, any other answer or a hang fails. */
async function runCheck(check: () => boolean | Promise<boolean>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), checkTimeout);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(check)
        .then((ok) => ok === true),
      timedOut,
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function checkOptions(options: HealthServiceOptions) {
  const {
    readiness,
    services = [],
    checks = {},
    now = Date.now,
    readinessHeader: header = true,
  } = options ?? ({} as HealthServiceOptions);
  if (typeof readiness?.status !== "function" || typeof readiness.onChange !== "function") {
    throw new TypeError(`${what}: readiness needs status and onChange functions (createAuthReadiness makes one)`);
  }
  if (readiness.prefetch !== undefined && typeof readiness.prefetch !== "function") {
    throw new TypeError(`${what}: readiness.prefetch must be a function`);
  }
  if (!Array.isArray(services) || services.some((s) => typeof s !== "string" || s === "")) {
    throw new TypeError(`${what}: services must be a list of non-empty service names ("" is always known)`);
  }
  const known = new Set(["", ...services]);
  if (known.size !== services.length + 1) throw new TypeError(`${what}: services must not repeat a name`);
  if (typeof checks !== "object" || checks === null || Object.values(checks).some((c) => typeof c !== "function")) {
    throw new TypeError(`${what}: checks must be an object of functions`);
  }
  if (typeof now !== "function") throw new TypeError(`${what}: now must be a function`);
  if (typeof header !== "boolean") throw new TypeError(`${what}: readinessHeader must be a boolean`);
  return { readiness, known: known as ReadonlySet<string>, checks: Object.entries(checks), now, header };
}
