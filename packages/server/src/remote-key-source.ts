import { type JWKSCacheInput, type JWTVerifyGetKey, type RemoteJWKSetOptions, createRemoteJWKSet, jwksCache } from "jose";
import { isLoopbackUrl } from "@connectauth/core";
import { type FetchedKeySet, withOutageFallback } from "./key-outage.js";
import { integerAtLeast } from "./option-checks.js";

/** How remote key sets (a JWKS `URL`, or the `jwks_uri` found by discovery) are fetched. */
export interface RemoteKeyOptions {
  /** Milliseconds a JWKS or discovery request may take before it counts as an outage. Default 5000. */
  readonly timeoutDuration?: number;
  /**
   * Milliseconds after a fetch during which an unknown `kid` causes no new fetch (a flood of made-up
   * `kid`s costs at most one fetch per cooldown). Default 30000.
   */
  readonly cooldownDuration?: number;
  /** Milliseconds a fetched key set is used before it is fetched again. Default 600000. */
  readonly cacheMaxAge?: number;
  /**
   * Milliseconds after a failed fetch during which no new fetch is tried: calls are answered from the
   * keys fetched before, or with `KEYS_UNAVAILABLE`. Bounds the requests sent to a key server that is
   * down. Default 1000.
   */
  readonly failureBackoff?: number;
  /**
   * Allow `http:` URLs for discovery and JWKS, for loopback hosts only (`127.0.0.1`, `[::1]`,
   * `localhost`): for tests and local development. Any other `http:` URL still throws. Default false.
   */
  readonly allowInsecureLoopback?: boolean;
}

/** @internal What our own callers tell a remote key source besides its options. */
export interface KeySourceContext {
  /** The factory named in `TypeError` messages (`createJwtAuthenticator`). */
  readonly what: string;
  /** The clock of the outage backoff, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** @internal {@link RemoteKeyOptions} with their defaults, checked. */
export interface RemoteDurations {
  readonly timeoutDuration: number;
  readonly cooldownDuration: number;
  readonly cacheMaxAge: number;
  readonly failureBackoff: number;
}

/**
 * @internal Refuses a key URL that is not `https:` (or `http:` on loopback with `allowInsecureLoopback`),
 * with a `TypeError` that says how to fix it.
 *
 * ```ts
 * checkKeyUrl(new URL("http://127.0.0.1:8080/jwks"), { allowInsecureLoopback: true }, "createRemoteKeySource");
 * ```
 *
 * Not checked: that the host answers, or what it serves.
 */
export function checkKeyUrl(url: URL, remote: RemoteKeyOptions, what: string): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && remote.allowInsecureLoopback === true && isLoopbackUrl(url)) return;
  throw new TypeError(
    `${what}: key URLs must be https${url.protocol === "http:" && isLoopbackUrl(url) ? " (for http on loopback, set remote: { allowInsecureLoopback: true })" : " (http is accepted on loopback hosts only: 127.0.0.0/8, [::1], localhost)"}`,
  );
}

/**
 * @internal The durations of {@link RemoteKeyOptions}, defaulted; each an integer >= 0 or a `TypeError`.
 *
 * ```ts
 * remoteDurations({ timeoutDuration: 2000 }, "createRemoteKeySource").failureBackoff; // 1000
 * ```
 *
 * Not checked: upper bounds.
 */
export function remoteDurations(remote: RemoteKeyOptions, what: string): RemoteDurations {
  return {
    timeoutDuration: integerAtLeast(0, remote.timeoutDuration, 5000, "timeoutDuration", what),
    cooldownDuration: integerAtLeast(0, remote.cooldownDuration, 30000, "cooldownDuration", what),
    cacheMaxAge: integerAtLeast(0, remote.cacheMaxAge, 600000, "cacheMaxAge", what),
    failureBackoff: integerAtLeast(0, remote.failureBackoff, 1000, "failureBackoff", what),
  };
}

/**
 * @internal jose's remote key set at `url`, writing each set it fetches into `fetched`.
 *
 * ```ts
 * const set = remoteSet(jwksUrl, remoteDurations(remote, what), fetched);
 * ```
 *
 * Not checked: the URL (see {@link checkKeyUrl}).
 */
export function remoteSet(url: URL, d: RemoteDurations, fetched: FetchedKeySet): ReturnType<typeof createRemoteJWKSet> {
  const options: RemoteJWKSetOptions = {
    timeoutDuration: d.timeoutDuration,
    cooldownDuration: d.cooldownDuration,
    cacheMaxAge: d.cacheMaxAge,
    [jwksCache]: fetched as JWKSCacheInput,
  };
  return createRemoteJWKSet(url, options);
}

/**
 * A remote JWKS through jose's `createRemoteJWKSet` (timeout, cooldown on unknown `kid`, cache age),
 * made to hold through outages: when a refetch fails, the keys fetched before keep verifying, and for
 * `failureBackoff` ms no new fetch is tried. With nothing fetched yet, an outage throws
 * `KeySourceUnavailableError`. The JWT authenticators' verified-token cache stops serving a token as
 * soon as a fetch shows its key gone from the set (a failed fetch shows nothing gone).
 *
 * ```ts
 * const keys = createRemoteKeySource(new URL("https://issuer.example.com/jwks"), { timeoutDuration: 2000 });
 * createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys });
 * ```
 *
 * Not checked: how old the keys kept through an outage are.
 *
 * @throws TypeError on a URL that is not https (nor http on loopback with `allowInsecureLoopback`), or
 * a duration that is not an integer >= 0.
 */
export function createRemoteKeySource(url: URL, remote: RemoteKeyOptions = {}): JWTVerifyGetKey {
  return remoteKeySource(url, remote, { what: "createRemoteKeySource" });
}

/**
 * @internal {@link createRemoteKeySource} for our own callers: their name in messages, and the clock
 * of the outage backoff.
 *
 * ```ts
 * remoteKeySource(url, remote, { what: "createJwtAuthenticator" });
 * ```
 *
 * Not checked: anything {@link createRemoteKeySource} does not check.
 */
export function remoteKeySource(url: URL, remote: RemoteKeyOptions, context: KeySourceContext): JWTVerifyGetKey {
  checkKeyUrl(url, remote, context.what);
  const d = remoteDurations(remote, context.what);
  const fetched: FetchedKeySet = {};
  const set = remoteSet(url, d, fetched);
  return withOutageFallback({
    getSet: async () => set,
    fetched,
    failureBackoff: d.failureBackoff,
    cacheMaxAge: d.cacheMaxAge,
    now: context.now ?? Date.now,
  });
}
