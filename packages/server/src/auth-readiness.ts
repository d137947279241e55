import { integerAtLeast } from "./option-checks.js";

/**
 * What an authenticator tells of what it depends on (its keys), for readiness and health checks.
 *
 * ```ts
 * const status: AuthenticatorStatus = { ready: false, lastError: "timeout", nextFetchAtMs: Date.now() + 1000 };
 * ```
 *
 * Not checked: anything; the readiness reads `ready` and `lastError` (a word that is not a fixed word
 * becomes `"unknown"`).
 */
export interface AuthenticatorStatus {
  /**
   * Whether it can decide on credentials now: its keys were fetched at least once and hold a key (keys
   * kept through an outage still count). Local keys are always ready.
   */
  readonly ready: boolean;
  /** Milliseconds since its keys were last fetched successfully. Absent: never fetched, or local keys. */
  readonly keysAgeMs?: number;
  /**
   * Why its last fetch failed, as a fixed word: `"timeout"`, `"network"`, `"http_status"`,
   * `"invalid_jwks"`, `"no_keys"`, `"discovery"` (or a word of your own authenticator: lowercase
   * letters, digits and `_`). Never a URL, a status text or an error message. Absent while the last
   * fetch succeeded, or before any.
   */
  readonly lastError?: string;
  /**
   * When the next fetch may happen, in milliseconds by the source's clock (its `now`): during an
   * outage the end of its backoff (or its background retry, while watched), otherwise the instant its
   * keys go stale (they are fetched again at the first call after it). Absent before any fetch.
   */
  readonly nextFetchAtMs?: number;
}

/**
 * One authenticator as the readiness sees it. `createServerAuth` makes these from its authenticators;
 * implement it for a dependency of your own.
 *
 * ```ts
 * const vault: ReadinessSource = { name: "vault", status: () => ({ ready: vaultClient.connected }) };
 * ```
 *
 * Not checked: that `status()` is cheap (it is called on every health check).
 */
export interface ReadinessSource {
  /** Names it in `status().authenticators` and in `AUTH_NOT_READY`. Unique among the sources. */
  readonly name: string;
  /** Its status now. A throw counts as not ready (`lastError: "status_failed"`). */
  status(): AuthenticatorStatus;
  /** Fetches what it needs now. Optional. Should resolve once the attempt ends; a rejection is ignored. */
  prefetch?(): Promise<void>;
  /**
   * Calls `listener` when its status changes; returns the unsubscribe. Optional: a source without it
   * is polled every 500 ms while something watches.
   */
  onChange?(listener: () => void): () => void;
}

/** The readiness of every source at one instant. */
export interface AuthReadinessStatus {
  /** Whether every source is ready (true for none). */
  readonly ready: boolean;
  /** Each source's status, by name. */
  readonly authenticators: Readonly<Record<string, AuthenticatorStatus>>;
}

/** Options of {@link AuthReadiness.ready}. */
export interface ReadyOptions {
  /** Milliseconds to wait before rejecting with `AUTH_NOT_READY`. An integer >= 0; default 10000. */
  readonly timeoutMs?: number;
  /** Stops the wait: `ready()` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Whether the authenticators can decide on credentials, from {@link createAuthReadiness}. */
export interface AuthReadiness {
  /**
   * Resolves once every source is ready: asks the sources that are not to fetch now, then waits for
   * them. Rejects with {@link AuthNotReadyError} (`code: "AUTH_NOT_READY"`) after `timeoutMs`.
   */
  ready(options?: ReadyOptions): Promise<void>;
  /** Every source's status now. */
  status(): AuthReadinessStatus;
  /**
   * Calls `listener` when a source becomes ready or not, or its `lastError` changes; returns the
   * unsubscribe. While watched, sources that are down retry in the background (at most once per
   * backoff).
   */
  onChange(listener: (status: AuthReadinessStatus) => void): () => void;
  /** Asks every source that is not ready to fetch now; resolves once every attempt ended. Never rejects. */
  prefetch(): Promise<void>;
}

/**
 * The rejection of {@link AuthReadiness.ready} when a source is still not ready after the timeout: its
 * message and `authenticators` name each such source and the word of its last error.
 *
 * ```ts
 * try { await readiness.ready({ timeoutMs: 5000 }); } catch (e) { if (e instanceof AuthNotReadyError) console.error(e.message); }
 * // "authenticators not ready after 5000 ms: jwt (timeout)"
 * ```
 *
 * Not checked: anything of the sources beyond their name and `lastError` word.
 */
export class AuthNotReadyError extends Error {
  override name = "AuthNotReadyError";
  readonly code = "AUTH_NOT_READY";
  constructor(
    /** The sources not ready, with their last error's word (absent: none yet, a fetch may be under way). */
    readonly authenticators: readonly { readonly name: string; readonly lastError?: string }[],
    timeoutMs: number,
  ) {
    const list = authenticators.map((a) => `${a.name} (${a.lastError ?? "not fetched yet"})`).join(", ");
    super(`authenticators not ready after ${timeoutMs} ms: ${list}`);
  }
}

const what = "createAuthReadiness";
const pollEvery = 500;
const fixedWord = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * Readiness over authenticators (or any {@link ReadinessSource}): ready when every source is, with
 * each one's status by name, a wait for all of them, and change events for health checks.
 *
 * ```ts
 * const readiness = createAuthReadiness([{ name: "jwt", ...keySource }]);
 * await readiness.ready({ timeoutMs: 5000 }); // before listening
 * readiness.status(); // { ready: true, authenticators: { jwt: { ready: true, keysAgeMs: 12 } } }
 * ```
 *
 * Not checked: whether a ready source's keys still verify (an outage with keys fetched before stays
 * ready: calls with those keys still succeed).
 *
 * @throws TypeError when `sources` is not a list of sources with a unique non-empty `name` and a
 * `status` function (`prefetch` and `onChange`, when present, functions).
 */
export function createAuthReadiness(sources: readonly ReadinessSource[]): AuthReadiness {
  checkSources(sources);
  const list = [...sources];
  const statusOf = (source: ReadinessSource): AuthenticatorStatus => {
    try {
      return publicStatus(source.status());
    } catch {
      return { ready: false, lastError: "status_failed" };
    }
  };
  const status = (): AuthReadinessStatus => {
    const authenticators = Object.fromEntries(list.map((s) => [s.name, statusOf(s)]));
    return { ready: Object.values(authenticators).every((s) => s.ready), authenticators };
  };
  const prefetch = async (): Promise<void> => {
    const due = list.filter((s) => s.prefetch !== undefined && !statusOf(s).ready);
    await Promise.all(due.map(async (s) => s.prefetch?.().catch(() => undefined)));
  };
  const onChange = (listener: (status: AuthReadinessStatus) => void): (() => void) => {
    let reported = keyOf(status());
    return watchSources(list, () => {
      const now = status();
      const key = keyOf(now);
      if (key === reported) return;
      reported = key;
      try {
        listener(now);
      } catch {
        // A listener's fault is its own: the other listeners and the sources go on.
      }
    });
  };
  const ready = async (options: ReadyOptions = {}): Promise<void> => {
    const timeoutMs = integerAtLeast(0, options.timeoutMs, 10000, "timeoutMs", "ready");
    options.signal?.throwIfAborted();
    if (status().ready) return;
    await new Promise<void>((resolve, reject) => {
      let finished = false;
      let stop: (() => void) | undefined;
      const finish = (settle: () => void) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        stop?.();
        options.signal?.removeEventListener("abort", abort);
        settle();
      };
      const check = () => {
        if (!finished && status().ready) finish(resolve);
      };
      const abort = () => finish(() => reject(options.signal?.reason));
      // Not unref'd: an `await readiness.ready()` before listening keeps the process until it settles.
      const timer = setTimeout(() => finish(() => reject(notReadyError(status(), timeoutMs))), timeoutMs);
      stop = watchSources(list, check);
      if (finished) stop(); // a source that called its listener at once
      options.signal?.addEventListener("abort", abort);
      void prefetch().then(check);
    });
  };
  return { ready, status, onChange, prefetch };
}

function notReadyError(status: AuthReadinessStatus, timeoutMs: number): AuthNotReadyError {
  const notReady = Object.entries(status.authenticators).filter(([, s]) => !s.ready);
  return new AuthNotReadyError(
    notReady.map(([name, s]) => ({ name, lastError: s.lastError })),
    timeoutMs,
  );
}

/** The fields of a source's status that the readiness passes on; a `lastError` that is not a fixed word becomes "unknown". */
function publicStatus(s: AuthenticatorStatus): AuthenticatorStatus {
  const out: Writable<AuthenticatorStatus> = { ready: s.ready === true };
  if (isTime(s.keysAgeMs)) out.keysAgeMs = s.keysAgeMs;
  if (s.lastError !== undefined) out.lastError = isFixedWord(s.lastError) ? s.lastError : "unknown";
  if (isTime(s.nextFetchAtMs)) out.nextFetchAtMs = s.nextFetchAtMs;
  return out;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const isFixedWord = (v: unknown): v is string => typeof v === "string" && fixedWord.test(v);
const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** What a change is: a source becoming ready or not, or its last error changing (not its keys' age). */
function keyOf(status: AuthReadinessStatus): string {
  return JSON.stringify(Object.entries(status.authenticators).map(([name, s]) => [name, s.ready, s.lastError ?? null]));
}

/**
 * Calls `changed` on every change event of the sources, and every 500 ms while a source has no
 * `onChange`; returns the stop (unsubscribes, clears the timer).
 */
function watchSources(sources: readonly ReadinessSource[], changed: () => void): () => void {
  const stops = sources.flatMap((s) => (s.onChange === undefined ? [] : [s.onChange(changed)]));
  let timer: ReturnType<typeof setInterval> | undefined;
  if (sources.some((s) => s.onChange === undefined)) {
    timer = setInterval(changed, pollEvery);
    (timer as unknown as { unref?: () => void }).unref?.();
  }
  return () => {
    for (const stop of stops) stop();
    if (timer !== undefined) clearInterval(timer);
  };
}

function checkSources(sources: readonly ReadinessSource[]): void {
  if (!Array.isArray(sources)) throw new TypeError(`${what}: sources must be a list`);
  const names = new Set<string>();
  for (const s of sources) {
    if (typeof s !== "object" || s === null || typeof s.name !== "string" || s.name === "") {
      throw new TypeError(`${what}: every source needs a non-empty name`);
    }
    if (names.has(s.name)) throw new TypeError(`${what}: two sources are named "${s.name}"`);
    names.add(s.name);
    if (typeof s.status !== "function") throw new TypeError(`${what}: source "${s.name}" needs a status function`);
    for (const f of ["prefetch", "onChange"] as const) {
      if (s[f] !== undefined && typeof s[f] !== "function") {
        throw new TypeError(`${what}: ${f} of source "${s.name}" must be a function`);
      }
    }
  }
}
