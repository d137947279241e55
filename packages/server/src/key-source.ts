import {
  type CryptoKey,
  type ExportedJWKSCache,
  type JSONWebKeySet,
  type JWK,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
  type RemoteJWKSetOptions,
  createLocalJWKSet,
  createRemoteJWKSet,
  jwksCache,
} from "jose";
import { allowInsecureRequests, discoveryRequest, processDiscoveryResponse } from "oauth4webapi";
import { isLoopbackUrl } from "@connectauth/core";
import { createKeySetObserver } from "./key-set-watch.js";

/**
 * Where the JWT authenticator gets its verification keys.
 *
 * - a JSON Web Key Set held in memory (`{ keys: [...] }`), public keys only (jose never takes HMAC
 *   secrets from a key set);
 * - the `URL` of a JSON Web Key Set, fetched with jose's remote key set (see {@link RemoteKeyOptions});
 * - one public `CryptoKey` (or a secret one for HMAC), or one public JWK (`{ kty: "EC", ... }`);
 * - an HMAC secret as bytes (`Uint8Array`, at least 32 of them, never a PEM text);
 * - your own lookup with jose's `JWTVerifyGetKey` signature.
 *
 * OIDC discovery is the `discovery` option of {@link createJwtAuthenticator}.
 */
export type JwtKeySource = JSONWebKeySet | URL | CryptoKey | JWK | Uint8Array | JWTVerifyGetKey;

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

/** A key lookup that knows which algorithms its keys may be used with. */
export interface ResolvedKeySource {
  readonly getKey: JWTVerifyGetKey;
  /** For local single keys: the only algorithm family the key can verify. */
  readonly family?: KeyFamily;
}

/** `"hmac"` for shared secrets, `"asymmetric"` for public keys. */
export type KeyFamily = "hmac" | "asymmetric";

/**
 * Thrown by a key lookup when the key source itself failed (network, timeout, HTTP status, an invalid
 * JWKS or discovery document), as opposed to a fault of the token. Carries no cause: fetch errors may
 * name URLs with secrets in them.
 *
 * ```ts
 * const myKeys: JWTVerifyGetKey = async (header) => {
 *   try { return await vault.key(header.kid); } catch { throw new KeySourceUnavailableError("vault down"); }
 * };
 * ```
 */
export class KeySourceUnavailableError extends Error {
  override name = "KeySourceUnavailableError";
  readonly code = "KEYS_UNAVAILABLE";
}

const tokenFaults = new Set([
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
]);

/** Whether a key lookup error is the token's fault (unknown `kid`, unsupported `alg`) rather than an outage. */
export function isTokenFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && tokenFaults.has(code);
}

/** The family of a JWS algorithm name: `HS*` is HMAC, anything else is asymmetric. */
export function familyOf(alg: string): KeyFamily {
  return /^HS\d+$/.test(alg) ? "hmac" : "asymmetric";
}

const minSecretBytes = 32;

/**
 * Resolves the `keys` option into a key lookup. Validates local keys at once: an HMAC secret shorter
 * than 32 bytes or looking like PEM text, or a private key, throws `TypeError`.
 */
export function resolveKeySource(keys: JwtKeySource, remote: RemoteKeyOptions, what: string): ResolvedKeySource {
  if (typeof keys === "function") {
    return { getKey: keys };
  }
  if (keys instanceof URL) {
    return { getKey: createRemoteKeySource(keys, remote, what) };
  }
  if (keys instanceof Uint8Array) {
    checkSecret(keys, what);
    const secret = keys;
    return { getKey: () => secret, family: "hmac" };
  }
  if (typeof keys === "object" && keys !== null && Array.isArray((keys as JSONWebKeySet).keys)) {
    const set = keys as JSONWebKeySet;
    for (const k of set.keys) checkPublicJwk(k, what);
    return { getKey: createLocalJWKSet(set) };
  }
  if (typeof keys === "object" && keys !== null && "type" in keys && "algorithm" in keys) {
    const key = keys as CryptoKey;
    if (key.type === "private") {
      throw new TypeError(`${what}: keys must be a public key, not a private key`);
    }
    return { getKey: () => key, family: key.type === "secret" ? "hmac" : "asymmetric" };
  }
  if (typeof keys === "object" && keys !== null && typeof (keys as JWK).kty === "string") {
    const jwk = keys as JWK;
    checkPublicJwk(jwk, what);
    if (jwk.kty === "oct") {
      throw new TypeError(`${what}: pass an HMAC secret as bytes (Uint8Array), not as a JWK`);
    }
    return { getKey: createLocalJWKSet({ keys: [jwk] }), family: "asymmetric" };
  }
  throw new TypeError(`${what}: keys must be a JWKS, a JWKS URL, a CryptoKey, a JWK, an HMAC secret or a key getter`);
}

function checkSecret(secret: Uint8Array, what: string): void {
  if (secret.byteLength < minSecretBytes) {
    throw new TypeError(`${what}: an HMAC secret must be at least ${minSecretBytes} bytes`);
  }
  const head = new TextDecoder("utf-8", { fatal: false }).decode(secret.subarray(0, 64));
  if (/-----BEGIN [A-Z ]+-----/.test(head) || /^\s*MII[A-Za-z0-9+/]/.test(head)) {
    throw new TypeError(`${what}: the HMAC secret looks like a PEM or DER key; pass the public key as a key instead`);
  }
}

function checkPublicJwk(jwk: JWK, what: string): void {
  if (typeof jwk !== "object" || jwk === null || typeof jwk.kty !== "string") {
    throw new TypeError(`${what}: every key of a JWKS needs a "kty"`);
  }
  if (jwk.d !== undefined || jwk.p !== undefined) {
    throw new TypeError(`${what}: a JWKS for verification must hold public keys only`);
  }
}

function checkUrl(url: URL, remote: RemoteKeyOptions, what: string): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && remote.allowInsecureLoopback === true && isLoopbackUrl(url)) return;
  throw new TypeError(
    `${what}: key URLs must be https${url.protocol === "http:" && isLoopbackUrl(url) ? " (for http on loopback, set remote: { allowInsecureLoopback: true })" : " (http is accepted on loopback hosts only: 127.0.0.0/8, [::1], localhost)"}`,
  );
}

function durations(remote: RemoteKeyOptions, what: string) {
  const pick = (value: number | undefined, fallback: number, name: string) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < 0) throw new TypeError(`${what}: ${name} must be an integer >= 0`);
    return v;
  };
  return {
    timeoutDuration: pick(remote.timeoutDuration, 5000, "timeoutDuration"),
    cooldownDuration: pick(remote.cooldownDuration, 30000, "cooldownDuration"),
    cacheMaxAge: pick(remote.cacheMaxAge, 600000, "cacheMaxAge"),
    failureBackoff: pick(remote.failureBackoff, 1000, "failureBackoff"),
  };
}

type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

/** Where jose writes each key set it fetched successfully (its `jwksCache` option), and only those. */
type FetchedKeySet = Partial<ExportedJWKSCache>;

function remoteSetOptions(d: ReturnType<typeof durations>, fetched: FetchedKeySet): RemoteJWKSetOptions {
  return {
    timeoutDuration: d.timeoutDuration,
    cooldownDuration: d.cooldownDuration,
    cacheMaxAge: d.cacheMaxAge,
    [jwksCache]: fetched as JWKSCacheInput,
  };
}

/**
 * A remote JWKS through jose's `createRemoteJWKSet` (timeout, cooldown on unknown `kid`, cache age),
 * made to hold through outages: when a refetch fails, the keys fetched before keep verifying, and for
 * `failureBackoff` ms no new fetch is tried. With nothing fetched yet, an outage throws
 * {@link KeySourceUnavailableError}. The JWT authenticators' verified-token cache stops serving a token
 * as soon as a fetch shows its key gone from the set (a failed fetch shows nothing gone).
 *
 * ```ts
 * const keys = createRemoteKeySource(new URL("https://issuer.example.com/jwks"), { timeoutDuration: 2000 });
 * createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys });
 * ```
 */
export function createRemoteKeySource(url: URL, remote: RemoteKeyOptions = {}, what = "createRemoteKeySource"): JWTVerifyGetKey {
  checkUrl(url, remote, what);
  const d = durations(remote, what);
  const fetched: FetchedKeySet = {};
  const set = createRemoteJWKSet(url, remoteSetOptions(d, fetched));
  return withOutageFallback(async () => set, fetched, d.failureBackoff);
}

/**
 * Keys found by OpenID Connect discovery (`oauth4webapi`): `<issuer>/.well-known/openid-configuration`
 * is fetched once, its `issuer` must equal the configured issuer exactly (not just as a normalized URL),
 * and its `jwks_uri` becomes a remote key set as in {@link createRemoteKeySource}. A failed discovery is
 * retried after `failureBackoff` ms; meanwhile calls get `KEYS_UNAVAILABLE`. The `jwks_uri` found is
 * kept for the life of the process; a key removed from its set stops being honored through the
 * verified-token cache as with {@link createRemoteKeySource}.
 *
 * ```ts
 * const keys = createDiscoveryKeySource("https://issuer.example.com/");
 * // the same as createJwtAuthenticator({ issuer: "https://issuer.example.com/", discovery: true, ... })
 * ```
 */
export function createDiscoveryKeySource(issuer: string, remote: RemoteKeyOptions = {}, what = "createDiscoveryKeySource"): JWTVerifyGetKey {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new TypeError(`${what}: discovery needs the issuer to be a URL`);
  }
  checkUrl(issuerUrl, remote, what);
  const d = durations(remote, what);
  const insecure = issuerUrl.protocol === "http:";
  const fetched: FetchedKeySet = {};
  let discovered: Promise<RemoteSet> | undefined;
  const discover = async (): Promise<RemoteSet> => {
    const response = await discoveryRequest(issuerUrl, {
      algorithm: "oidc",
      signal: AbortSignal.timeout(d.timeoutDuration),
      ...(insecure ? { [allowInsecureRequests]: true } : {}),
    });
    const metadata = await processDiscoveryResponse(issuerUrl, response);
    // oauth4webapi compares normalized URLs; the issuer must be the very string tokens will carry.
    if (metadata.issuer !== issuer || typeof metadata.jwks_uri !== "string") {
      throw new KeySourceUnavailableError("the discovery document does not match the issuer");
    }
    const jwksUrl = new URL(metadata.jwks_uri);
    checkUrl(jwksUrl, remote, what);
    return createRemoteJWKSet(jwksUrl, remoteSetOptions(d, fetched));
  };
  return withOutageFallback(() => {
    discovered ??= discover().catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  }, fetched, d.failureBackoff);
}

function withOutageFallback(getSet: () => Promise<RemoteSet>, fetched: FetchedKeySet, failureBackoff: number): JWTVerifyGetKey {
  let failedAt = -Infinity;
  let current: RemoteSet | undefined;
  // The keys fetched before the last failure: jose keeps them in the remote set, but refetches (and
  // fails) once they are older than cacheMaxAge, so they are copied out when a fetch fails.
  let fallback: JWTVerifyGetKey | undefined;
  const fromFallback: JWTVerifyGetKey = async (header, token) => {
    if (fallback === undefined) throw new KeySourceUnavailableError("the key source cannot be reached");
    try {
      return await fallback(header, token);
    } catch (error) {
      // An unknown kid during an outage may be a rotated key we cannot fetch: not the token's fault.
      if ((error as { code?: unknown }).code === "ERR_JWKS_NO_MATCHING_KEY") {
        throw new KeySourceUnavailableError("the key source cannot be reached");
      }
      throw error;
    }
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (Date.now() - failedAt < failureBackoff) {
      return fromFallback(header, token);
    }
    try {
      current = await getSet();
      return await current(header, token);
    } catch (error) {
      if (isTokenFault(error)) throw error;
      failedAt = Date.now();
      const jwks = current?.jwks();
      if (jwks !== undefined) fallback = createLocalJWKSet(jwks);
      return await fromFallback(header, token);
    } finally {
      // A lookup may have fetched a new set (stale, or an unknown kid): the cache follows it before
      // this lookup answers. A failed fetch leaves `fetched` as it was.
      await observer.observe(fetched.jwks);
    }
  };
  const observer = createKeySetObserver(getKey);
  return getKey;
}
