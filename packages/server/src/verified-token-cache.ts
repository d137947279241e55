import { sha256Latin1 } from "./sha256.js";

/** Options of {@link createVerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** The most entries held; when full, the oldest entry is dropped. Default 10000. */
  readonly maxEntries?: number;
  /**
   * The longest an entry lives, in seconds, whatever the token's `exp`: a key removed from the JWKS
   * stops being honored (through the cache) within this time. Default 60.
   */
  readonly ttlSeconds?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Where a token would sit in the cache: the hash of its signature and its signing input. Computed
 * once per call ({@link VerifiedTokenCache.keyOf}) and used for both `get` and `set`; `undefined` for
 * a token that cannot be cached (not ASCII).
 */
export type TokenCacheKey = { readonly hash: string; readonly signingInput: string } | undefined;

/** A bounded cache of verification results, keyed by a hash of the token. */
export interface VerifiedTokenCache<T> {
  /** The key of a token, for `get` and `set`. */
  keyOf(token: string): TokenCacheKey;
  /** The cached result for this exact token, or `undefined` (absent, or expired). */
  get(key: TokenCacheKey): T | undefined;
  /** Caches a result until `expiresAtMs` (the token's `exp`), or the TTL if it comes first. */
  set(key: TokenCacheKey, value: T, expiresAtMs: number): void;
  /** Drops every entry. */
  clear(): void;
  /** The number of entries held (expired ones included until they are looked up or pushed out). */
  readonly size: number;
}

// The signature of a token that can be cached: ASCII only (a JWS signature is base64url).
const ascii = /^[\x00-\x7f]*$/;

interface Entry<T> {
  readonly signingInput: string;
  readonly value: T;
  readonly expiresAt: number;
}

/**
 * Creates a bounded cache of verified tokens, so that a token seen again skips the signature check.
 *
 * Each entry is keyed by the SHA-256 of the token's signature (the part that makes it a credential)
 * and holds the token's signing input (header and payload, readable by anyone holding the token) to
 * confirm the match: the token itself is never kept. SHA-256 is synchronous, because WebCrypto's
 * `digest` costs about as much as a signature check on a busy server: the runtime's own `crypto.hash`
 * where there is one (Node, Deno, Bun), `@noble/hashes` elsewhere.
 *
 * ```ts
 * const cache = createVerifiedTokenCache<AuthIdentity>({ ttlSeconds: 60 });
 * const key = cache.keyOf(token);
 * cache.get(key) ?? cache.set(key, await verify(token), payload.exp * 1000);
 * cache.get(key); // the result, until exp or 60 s have passed
 * ```
 *
 * @throws TypeError on a `maxEntries` below 1 or a negative `ttlSeconds`.
 */
export function createVerifiedTokenCache<T>(options: VerifiedTokenCacheOptions = {}): VerifiedTokenCache<T> {
  const maxEntries = options.maxEntries ?? 10000;
  const ttlMs = (options.ttlSeconds ?? 60) * 1000;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError("createVerifiedTokenCache: maxEntries must be an integer >= 1");
  }
  if (!Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new TypeError("createVerifiedTokenCache: ttlSeconds must be a finite number >= 0");
  }
  const entries = new Map<string, Entry<T>>();
  const keyOf = (token: string): TokenCacheKey => {
    const dot = token.lastIndexOf(".");
    const signature = token.slice(dot + 1);
    if (!ascii.test(signature)) return undefined;
    const hash = sha256Latin1(signature);
    return { hash, signingInput: token.slice(0, dot) };
  };
  return {
    keyOf,
    get(key) {
      if (key === undefined || entries.size === 0) return undefined;
      const entry = entries.get(key.hash);
      if (entry === undefined || entry.signingInput !== key.signingInput) return undefined;
      if (now() >= entry.expiresAt) {
        entries.delete(key.hash);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, expiresAtMs) {
      if (key === undefined) return;
      const expiresAt = Math.min(expiresAtMs, now() + ttlMs);
      if (!(expiresAt > now())) return;
      entries.delete(key.hash);
      while (entries.size >= maxEntries) {
        entries.delete(entries.keys().next().value as string);
      }
      entries.set(key.hash, { signingInput: key.signingInput, value, expiresAt });
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
