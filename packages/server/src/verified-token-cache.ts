import { sha256 } from "@noble/hashes/sha2.js";

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

/** A bounded cache of verification results, keyed by a hash of the token. */
export interface VerifiedTokenCache<T> {
  /** The cached result for this exact token, or `undefined` (absent, or expired). */
  get(token: string): T | undefined;
  /** Caches a result until `expiresAtMs` (the token's `exp`), or the TTL if it comes first. */
  set(token: string, value: T, expiresAtMs: number): void;
  /** Drops every entry. */
  clear(): void;
  /** The number of entries held (expired ones included until they are looked up or pushed out). */
  readonly size: number;
}

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
 * confirm the match: the token itself is never kept. SHA-256 comes from `@noble/hashes`, synchronous,
 * because WebCrypto's `digest` costs about as much as a signature check on a busy server.
 *
 * ```ts
 * const cache = createVerifiedTokenCache<AuthIdentity>({ ttlSeconds: 60 });
 * cache.set(token, identity, payload.exp * 1000);
 * cache.get(token); // identity, until exp or 60 s have passed
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
  const encoder = new TextEncoder();
  const split = (token: string) => {
    const dot = token.lastIndexOf(".");
    const digest = sha256(encoder.encode(token.slice(dot + 1)));
    return { key: String.fromCharCode(...digest), signingInput: token.slice(0, dot) };
  };
  return {
    get(token) {
      if (entries.size === 0) return undefined;
      const { key, signingInput } = split(token);
      const entry = entries.get(key);
      if (entry === undefined || entry.signingInput !== signingInput) return undefined;
      if (now() >= entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(token, value, expiresAtMs) {
      const expiresAt = Math.min(expiresAtMs, now() + ttlMs);
      if (!(expiresAt > now())) return;
      const { key, signingInput } = split(token);
      entries.delete(key);
      while (entries.size >= maxEntries) {
        entries.delete(entries.keys().next().value as string);
      }
      entries.set(key, { signingInput, value, expiresAt });
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
