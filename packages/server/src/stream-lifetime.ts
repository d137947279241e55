// Longer than most files: the end of a stream on expiry or revalidation for the three stream kinds
// (request side, response side, both), with the timer's life tied to the call's.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor, StreamRequest } from "@connectrpc/connect";
import { Reason } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, authenticatorFault } from "./authenticator.js";
import type { Verdict } from "./decision.js";
import { type Denial, deny, fault, toConnectError } from "./denial.js";
import type { AuthIdentity } from "./identity.js";
import { nonNegative } from "./option-checks.js";

/**
 * The `streams` option of `createServerAuth`: how long a stream may outlive the credential it was
 * opened with.
 *
 * ```ts
 * createServerAuth({ authenticators: [jwt], streams: { graceSeconds: 5, keepOpen: ["example.v1.FeedService/Tail"] } });
 * ```
 *
 * Not checked: that the tolerance matches the authenticator's own (`clockToleranceSeconds` of the JWT
 * authenticators, 30 by default too).
 */
export interface StreamLifetimeOptions {
  /** Seconds past the token's `exp` still tolerated for clock skew, as the JWT authenticators do. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** Seconds more before a stream is ended, after `exp` and the tolerance. Default 0. */
  readonly graceSeconds?: number;
  /** Whether streams end when their token expires. Default `true`; `revalidate` rejections end them regardless. */
  readonly endOnExpiry?: boolean;
  /**
   * Services (`"example.v1.FeedService"`) or methods (`"example.v1.FeedService/Tail"`) whose streams are
   * not ended when their token expires (a `revalidate` rejection still ends them). Names of the
   * `authorization.services` when those are given. Default: none.
   */
  readonly keepOpen?: readonly string[];
  /** The clock the token's `exp` is compared with, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** An admitted stream call, as its lifetime needs it: the identity and the verdict of its admission. */
export interface AdmittedStream extends Verdict {
  readonly identity: AuthIdentity;
}

type Next = Parameters<Interceptor>[0];

/**
 * Hands an admitted stream call on so that it ends with its credential, or as it is when there is
 * nothing to watch (no `exp`, no `revalidate`): see {@link createStreamLifetimes}.
 */
export type StreamLifetimes = (next: Next, req: StreamRequest, admitted: AdmittedStream) => ReturnType<Next>;

/** What the lifetimes of one server share with it. */
export interface StreamLifetimeContext {
  readonly authenticators: readonly Authenticator[];
  readonly realm: string | undefined;
  /** Emits the one decision event of a stream's end. */
  readonly emit: ((verdict: Verdict, durationMs: number) => Promise<void>) | undefined;
  /** The services of the `authorization` option, to check the `keepOpen` names against. */
  readonly services: readonly DescService[] | undefined;
}

const what = "createServerAuth";
/** How often an open stream's identity is revalidated, and the longest wait between two looks at the clock. */
const revalidateEvery = 1000;
/** The longest delay a timer takes (2^31 - 1 ms); a later deadline is looked at again then. */
const maxDelay = 2_147_483_647;
const nameSyntax = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\/[A-Za-z_][A-Za-z0-9_]*)?$/;

/**
 * Streams that end with their credential. A server-streaming, client-streaming or bidi call admitted
 * with an identity whose `claims.exp` is a number is ended with `Unauthenticated` / `TOKEN_EXPIRED`
 * (`detail: "exp"`, the contract's `ErrorInfo` and challenge, `DPoP` for a DPoP call) once `exp` plus the
 * clock tolerance and the grace has passed; and with the rejection of its authenticator's
 * `revalidate(identity)`, asked about once a second while the stream is open, when it gives one. The
 * end is the protocol's normal error, after the messages already sent: the pending read of the
 * response (and of the request) fails with it, the handler's iterator is closed (its generator's
 * `finally` runs, once it yields or returns) and its `signal` aborts.
 *
 * One timer per stream, unref'd, cleared when the stream ends in any way (its signal aborts); each
 * message costs one promise, no timer. The end emits one more decision event for the call: `allowed:
 * false` with the reason and detail of the end, the admission's authenticator, subject, token hash and
 * `dpop`, and `durationMs` 0.
 *
 * ```ts
 * const lifetimes = createStreamLifetimes(options.streams, { authenticators, realm, emit, services });
 * return req.stream ? lifetimes(next, req, admitted) : next(req);
 * ```
 *
 * Not checked: a handler that ignores its signal while it awaits something other than its stream
 * keeps running until it yields (its messages are no longer sent); tokens without `exp`, unless the
 * authenticator revalidates.
 *
 * @throws TypeError when a duration is not a finite number >= 0, `endOnExpiry` is not a boolean,
 * `now` is not a function, or `keepOpen` is not a list of service or method names (of the listed
 * services, when given).
 */
export function createStreamLifetimes(
  options: StreamLifetimeOptions | undefined,
  context: StreamLifetimeContext,
): StreamLifetimes {
  const { toleranceMs, endOnExpiry, keepOpen, now } = checkOptions(options ?? {}, context.services);
  const { realm, emit } = context;
  const revalidators = new Map<string, Authenticator>();
  for (const a of context.authenticators) {
    if (a.revalidate !== undefined && !revalidators.has(a.name)) revalidators.set(a.name, a);
  }
  const expires = (method: DescMethod): boolean =>
    endOnExpiry && !keepOpen.has(method.parent.typeName) && !keepOpen.has(`${method.parent.typeName}/${method.name}`);

  return (next, req, admitted) => {
    const exp = admitted.identity.claims["exp"];
    const deadline =
      typeof exp === "number" && Number.isFinite(exp) && expires(req.method) ? exp * 1000 + toleranceMs : undefined;
    const authenticator = admitted.authenticator === undefined ? undefined : revalidators.get(admitted.authenticator);
    if (deadline === undefined && authenticator === undefined) return next(req);
    const ending = createEnding();
    const end = (denial: Denial) => {
      const error = toConnectError({ challenge: admitted.challenge, ...denial }, realm);
      // As a refusal is: its event first, then the error.
      const finish = () => ending.end(error);
      if (emit === undefined) finish();
      else void emit({ ...admitted, denial }, 0).then(finish, finish);
    };
    const revalidate = authenticator === undefined ? undefined : () => revalidated(authenticator, admitted);
    const stopWatch = watch(deadline, revalidate, now, end, () => expired(admitted.identity));
    const stop = () => {
      stopWatch();
      ending.clear();
      req.signal.removeEventListener("abort", stop);
    };
    req.signal.addEventListener("abort", stop);
    const opened = next({ ...req, message: endable(req.message, ending, false, undefined) });
    return new Promise<Awaited<ReturnType<Next>>>((resolve, reject) => {
      ending.on(reject);
      opened.then((res) => {
        if (ending.error !== undefined) {
          // Ended while the handler was being called: close what it returned.
          if (res.stream) closeQuietly(res.message[Symbol.asyncIterator]());
          reject(ending.error);
          return;
        }
        if (!res.stream) stop();
        resolve(res.stream ? { ...res, message: endable(res.message, ending, true, stop) } : res);
      }, reject);
    }).catch((error: unknown) => {
      stop();
      throw error;
    });
  };
}

/** The denial of a stream whose token expired. */
function expired(identity: AuthIdentity): Denial {
  return deny(Reason.TokenExpired, {
    message: "the token expired while the stream was open",
    metadata: { authenticator: identity.authenticator, detail: "exp" },
  });
}

/** What the authenticator's `revalidate` says of the admitted identity: `undefined` while it holds. */
function revalidated(authenticator: Authenticator, admitted: AdmittedStream): Denial | undefined {
  let outcome: AuthOutcome | undefined;
  try {
    outcome = authenticator.revalidate?.(admitted.identity);
  } catch {
    return authenticatorFault(authenticator);
  }
  if (outcome === undefined) return undefined;
  if (typeof outcome !== "object" || outcome === null || (outcome.ok !== true && outcome.ok !== false)) {
    return fault(`authenticator "${authenticator.name}" revalidated with something other than an outcome`);
  }
  if (outcome.ok) return undefined;
  const metadata: Record<string, string> = { authenticator: authenticator.name };
  if (outcome.detail !== undefined) metadata["detail"] = outcome.detail;
  const denial = deny(outcome.reason, { message: outcome.message, metadata });
  return outcome.challenge === undefined ? denial : { ...denial, challenge: outcome.challenge };
}

/**
 * One timer for one stream: at the deadline (looked at again past the longest timer), and every second
 * while there is a `revalidate`. Calls `end` once, with the first denial; returns the stop.
 */
function watch(
  deadline: number | undefined,
  revalidate: (() => Denial | undefined) | undefined,
  now: () => number,
  end: (denial: Denial) => void,
  expiry: () => Denial,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = () => {
    let delay = deadline === undefined ? revalidateEvery : deadline - now();
    if (revalidate !== undefined && delay > revalidateEvery) delay = revalidateEvery;
    timer = setTimeout(tick, Math.min(Math.max(delay, 0), maxDelay));
    (timer as unknown as { unref?: () => void }).unref?.();
  };
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    const denial = deadline !== undefined && now() >= deadline ? expiry() : revalidate?.();
    if (denial === undefined) {
      schedule();
      return;
    }
    stopped = true;
    end(denial);
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}

/** The end of one stream, once: its error, and who is told. */
interface Ending {
  readonly error: ConnectError | undefined;
  on(listener: (error: ConnectError) => void): void;
  end(error: ConnectError): void;
  /** Drops the listeners (the stream is over). */
  clear(): void;
}

function createEnding(): Ending {
  let listeners: ((error: ConnectError) => void)[] = [];
  const ending = {
    error: undefined as ConnectError | undefined,
    on(listener: (error: ConnectError) => void) {
      listeners.push(listener);
    },
    end(error: ConnectError) {
      if (ending.error !== undefined) return;
      ending.error = error;
      const told = listeners;
      listeners = [];
      for (const listener of told) listener(error);
    },
    clear() {
      listeners = [];
    },
  };
  return ending;
}

/**
 * The messages of `source` until the stream ends: then the pending read (or the next one) fails with
 * the end's error, and, for the response (`close`), the source's iterator is closed so that the
 * handler stops. `done` runs once the messages end in any way.
 */
function endable<T>(source: AsyncIterable<T>, ending: Ending, close: boolean, done: (() => void) | undefined): AsyncIterable<T> {
  let it: AsyncIterator<T> | undefined;
  let state: "open" | "ended" | "done" = "open";
  let waiting: ((error: unknown) => void) | undefined;
  const finish = () => {
    if (state === "done") return;
    state = "done";
    done?.();
  };
  ending.on((error) => {
    if (state !== "open") return;
    state = "ended";
    const w = waiting;
    waiting = undefined;
    if (w !== undefined) {
      finish();
      w(error);
    }
    if (close && it !== undefined) closeQuietly(it);
  });
  const iterator: AsyncIterator<T> = {
    next() {
      if (state === "done") return Promise.resolve({ done: true, value: undefined });
      if (state === "ended") {
        finish();
        return Promise.reject(ending.error);
      }
      it ??= source[Symbol.asyncIterator]();
      const source_ = it;
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiting = reject;
        source_.next().then(
          (r) => {
            if (waiting !== reject) return;
            waiting = undefined;
            if (r.done === true) finish();
            resolve(r);
          },
          (error: unknown) => {
            if (waiting !== reject) return;
            waiting = undefined;
            finish();
            reject(error);
          },
        );
      });
    },
    return(value?: unknown) {
      waiting = undefined;
      finish();
      const r = it?.return?.(value);
      return r ?? Promise.resolve({ done: true, value: undefined });
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

/** Closes an iterator without waiting, and without caring how that goes (its owner is being ended). */
function closeQuietly(it: AsyncIterator<unknown>): void {
  void Promise.resolve()
    .then(() => it.return?.())
    .catch(() => undefined);
}

function checkOptions(options: StreamLifetimeOptions, services: readonly DescService[] | undefined) {
  if (typeof options !== "object" || options === null) throw new TypeError(`${what}: streams must be an object`);
  const tolerance = nonNegative(options.clockToleranceSeconds, 30, "streams.clockToleranceSeconds", what);
  const grace = nonNegative(options.graceSeconds, 0, "streams.graceSeconds", what);
  const endOnExpiry = options.endOnExpiry ?? true;
  if (typeof endOnExpiry !== "boolean") throw new TypeError(`${what}: streams.endOnExpiry must be a boolean`);
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError(`${what}: streams.now must be a function`);
  const keepOpen = options.keepOpen ?? [];
  if (!Array.isArray(keepOpen) || keepOpen.some((n) => typeof n !== "string" || !nameSyntax.test(n))) {
    throw new TypeError(
      `${what}: streams.keepOpen must be a list of service or method names ("pkg.Service", "pkg.Service/Method")`,
    );
  }
  if (services !== undefined) {
    const known = new Set(services.flatMap((s) => [s.typeName, ...s.methods.map((m) => `${s.typeName}/${m.name}`)]));
    const unknown = keepOpen.find((n) => !known.has(n));
    if (unknown !== undefined) {
      throw new TypeError(
        `${what}: streams.keepOpen names "${unknown}", which is no method or service of authorization.services`,
      );
    }
  }
  return { toleranceMs: (tolerance + grace) * 1000, endOnExpiry, keepOpen: new Set<string>(keepOpen), now };
}
