import { tokenHash } from "@connectauth/core";
import type { TokenSource, TokenSourcePeek } from "./token-source.js";
import { type ClientAuthEvent, type ClientAuthEventHandler, emit } from "./client-auth-event.js";

/** A token and how long it lives, as a token endpoint answers. */
export interface IssuedToken {
  /** The access token. Secret: never log it. */
  readonly token: string;
  /** Seconds of validity from now (OAuth2 `expires_in`). */
  readonly expiresIn?: number;
  /** Absolute expiry in ms since the epoch (e.g. a JWT's `exp` × 1000). Wins over `expiresIn`. */
  readonly expiresAt?: number;
}

/** Options of {@link createCachedTokenSource}. */
export interface CachedTokenSourceOptions {
  /** Gets a new token. A bare string is a token that never expires (until invalidated). */
  readonly load: () => Promise<IssuedToken | string>;
  /**
   * Refresh this many ms before expiry, while calls still use the current token. Default 60 000,
   * capped at half the token's lifetime so that short-lived tokens are not refreshed all the time.
   */
  readonly refreshBeforeMs?: number;
  /**
   * Up to this many ms more, at random, so that a fleet started together does not refresh together.
   * Default 5 000, capped at a quarter of the token's lifetime.
   */
  readonly jitterMs?: number;
  /** After a failed load, wait this long before the next (doubling per failure). Default 1 000. */
  readonly backoffMs?: number;
  /** The longest wait after repeated failures. Default 60 000. */
  readonly maxBackoffMs?: number;
  /** The current time in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** A number in [0, 1) for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Receives a `refresh` event per load (with a hash of the new token, never the token). */
  readonly onEvent?: ClientAuthEventHandler;
}

/** A {@link TokenSource} that caches, refreshes ahead of time and can be told to forget its token. */
export interface CachedTokenSource extends TokenSource {
  getToken(): Promise<string>;
  invalidate(rejected?: string): void;
  observe(handler: ClientAuthEventHandler): void;
  peek(): TokenSourcePeek;
}

interface Held {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

/**
 * Creates a token source that keeps one token with its expiry and loads a new one ahead of time.
 *
 * - Valid and not yet due: every call gets the cached token, no load.
 * - Due for refresh (within `refreshBeforeMs` + jitter of expiry): calls still get the cached token while
 *   one load runs in the background.
 * - Expired, missing or invalidated: calls wait for the one load in flight: however many calls wait,
 *   there is only ever one load at a time.
 * - A failed load makes the waiting calls fail, and no new load starts before a back-off (1 s, doubling,
 *   up to 60 s): calls in that time fail at once with the same error, instead of hammering the issuer.
 *
 * ```ts
 * const source = createCachedTokenSource({
 *   load: async () => {
 *     const r = await fetchToken(); // your own token endpoint call
 *     return { token: r.access_token, expiresIn: r.expires_in };
 *   },
 * });
 * createAuthInterceptor({ token: source });
 * ```
 *
 * @throws TypeError when `load` is not a function or a duration is negative.
 */
export function createCachedTokenSource(options: CachedTokenSourceOptions): CachedTokenSource {
  if (typeof options.load !== "function") {
    throw new TypeError("connectauth: load must be a function");
  }
  const refreshBeforeMs = duration(options, "refreshBeforeMs", 60_000);
  const jitterMs = duration(options, "jitterMs", 5_000);
  const backoffMs = duration(options, "backoffMs", 1_000);
  const maxBackoffMs = duration(options, "maxBackoffMs", 60_000);
  const { load } = options;
  const handlers = new Set<ClientAuthEventHandler>();
  if (options.onEvent !== undefined) handlers.add(options.onEvent);
  const onEvent = (event: ClientAuthEvent): void => {
    for (const h of handlers) emit(h, event);
  };
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;

  let held: Held | undefined;
  let inFlight: Promise<string> | undefined;
  let invalidated = false;
  let failures = 0;
  let retryAt = -Infinity;
  let lastError: unknown;

  const refresh = (trigger: "initial" | "proactive" | "expired" | "invalidated"): Promise<string> => {
    const started = now();
    inFlight = (async () => {
      try {
        // Through a microtask, so that a load that throws synchronously still settles this promise.
        const issued = normalize(await Promise.resolve().then(load));
        const at = now();
        const expiresAt = issued.expiresAt ?? (issued.expiresIn === undefined ? Infinity : at + issued.expiresIn * 1000);
        const lifetime = Math.max(0, expiresAt - at);
        const margin = Math.min(refreshBeforeMs, lifetime / 2) + Math.min(jitterMs, lifetime / 4) * random();
        held = { token: issued.token, expiresAt, refreshAt: expiresAt - margin };
        invalidated = false;
        failures = 0;
        retryAt = -Infinity;
        if (handlers.size > 0) {
          onEvent({ type: "refresh", ok: true, trigger, durationMs: at - started, tokenHash: await tokenHash(issued.token) });
        }
        return issued.token;
      } catch (error) {
        failures++;
        retryAt = now() + Math.min(maxBackoffMs, backoffMs * 2 ** (failures - 1));
        lastError = error;
        onEvent({ type: "refresh", ok: false, trigger, durationMs: now() - started, error: errorCode(error) });
        throw error;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    getToken() {
      const t = now();
      if (held !== undefined && t < held.expiresAt) {
        if (t >= held.refreshAt && inFlight === undefined && t >= retryAt) {
          // The callers keep the current token; a failure here is seen by the calls after expiry.
          refresh("proactive").catch(() => undefined);
        }
        return Promise.resolve(held.token);
      }
      if (inFlight !== undefined) {
        return inFlight;
      }
      if (t < retryAt) {
        return Promise.reject(lastError);
      }
      return refresh(held !== undefined ? "expired" : invalidated ? "invalidated" : "initial");
    },
    observe(handler) {
      handlers.add(handler);
    },
    invalidate(rejected) {
      if (held !== undefined && (rejected === undefined || rejected === held.token)) {
        held = undefined;
        invalidated = true;
      }
    },
    // Read by watchTokenSource, which keeps the state machine out of this source (and of its bundle).
    peek: () => [held?.expiresAt, inFlight, retryAt, lastError],
  };
}

function normalize(loaded: IssuedToken | string): IssuedToken {
  const issued = typeof loaded === "string" ? { token: loaded } : loaded;
  if (typeof issued?.token !== "string" || issued.token === "") {
    throw new TypeError("connectauth: load returned no token");
  }
  return issued;
}

/** A stable, secret-free name for an error: its `code` if it has a string one, else its name. */
export function errorCode(error: unknown): string {
  const e = error as { code?: unknown; error?: unknown; cause?: unknown } | null;
  const word = (v: unknown): v is string => typeof v === "string" && /^[\w.-]{1,64}$/.test(v);
  // Only short identifier-like words pass: a loader's own error could carry anything in `code`.
  const name = word(e?.code) ? e.code : error instanceof Error && word(error.name) ? error.name : "unknown";
  // OAuth2 errors carry a registered `error` code (e.g. invalid_client), in the body or in a
  // WWW-Authenticate challenge (oauth4webapi puts the parsed challenges in `cause`): safe and useful.
  const challenge = Array.isArray(e?.cause) ? (e.cause[0] as { parameters?: { error?: unknown } })?.parameters : undefined;
  const oauthError = typeof e?.error === "string" ? e.error : challenge?.error;
  return word(oauthError) ? `${name} ${oauthError}` : name;
}

function duration(
  options: CachedTokenSourceOptions,
  name: "refreshBeforeMs" | "jitterMs" | "backoffMs" | "maxBackoffMs",
  fallback: number,
): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new TypeError(`connectauth: ${name} must be a number of ms >= 0`);
  }
  return value;
}
