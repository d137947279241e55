import { sha256Latin1 } from "./sha256.js";

/** Options of {@link createVerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** The most entries held; when full, the oldest entry is dropped. Default 10000. */
  readonly maxEntries?: number;
  /**
   * The longest an entry lives, in seconds, whatever the token's `exp`. An entry set with a
   * `stillTrusted` check (the JWT authenticators' remote key sets) is dropped as soon as the check
   * fails; for the others (your own key lookup) a key removed from the JWKS stops being honored
   * through the cache within this time. Default 60.
   */
  readonly ttlSeconds?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Where a token would sit in the cache: the hash of its signature and its signing input. Computed
 * once per call ({@link VerifiedTokenCache.keyOf}) and used for both `get` and `set`; `undefined` for
 * a token that cannot be cached (a signature with a lone surrogate, whose UTF-8 is not its own).
 */
export type TokenCacheKey = { readonly hash: string; readonly signingInput: string } | undefined;

/** A bounded cache of verification results, keyed by a hash of the token. */
export interface VerifiedTokenCache<T> {
  /** The key of a token, for `get` and `set`. */
  keyOf(token: string): TokenCacheKey;
  /**
   * The cached result for this exact token, or `undefined`: absent, expired, or its `stillTrusted`
   * check says no (then the entry is dropped, and the token must be verified again).
   */
  get(key: TokenCacheKey): T | undefined;
  /**
   * Caches a result until `expiresAtMs` (the token's `exp`), or the TTL if it comes first, and, with
   * `stillTrusted`, while that check holds. The check runs on every hit: it must not allocate.
   */
  set(key: TokenCacheKey, value: T, expiresAtMs: number, stillTrusted?: () => boolean): void;
  /** Drops every entry. */
  clear(): void;
  /** The number of entries held (expired ones included until they are looked up or pushed out). */
  readonly size: number;
}

type WellFormed = { isWellFormed(): boolean };

interface Entry<T> {
  readonly signingInput: string;
  readonly value: T;
  readonly expiresAt: number;
  readonly stillTrusted: (() => boolean) | undefined;
}

/**
 * Creates a bounded cache of verified tokens, so that a token seen again skips the signature check.
 *
 * Each entry is keyed by the SHA-256 of the token's signature and holds the token's signing input
 * (header and payload, readable by anyone holding the token) to confirm the match: the token itself is
 * never kept. Why it is built so: docs/performance.md.
 *
 * ```ts
 * const cache = createVerifiedTokenCache<AuthIdentity>({ ttlSeconds: 60 });
 * const key = cache.keyOf(token);
 * cache.get(key) ?? cache.set(key, await verify(token), payload.exp * 1000, () => keyIds.has(kid));
 * cache.get(key); // the result, until exp or 60 s have passed, or the key is gone from keyIds
 * ```
 *
 * Not checked: anything about the token. The cache only remembers what the caller verified; what a
 * hit is worth is what `set` was given (a rejection should not be cached: it is cheap to find again).
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
    // The signing input ends at the second dot (a JWS has two); what follows is hashed, so that two
    // tokens have the same key only if they are the same token.
    const first = token.indexOf(".");
    const dot = first < 0 ? -1 : token.indexOf(".", first + 1);
    const signature = token.slice(dot + 1);
    // The hash reads UTF-8, in which lone surrogates all become U+FFFD (ES2024, Node 20).
    if (!(signature as unknown as WellFormed).isWellFormed()) return undefined;
    return { hash: sha256Latin1(signature), signingInput: dot < 0 ? "" : token.slice(0, dot) };
  };
  return {
    keyOf,
    get(key) {
      if (key === undefined || entries.size === 0) return undefined;
      const entry = entries.get(key.hash);
      if (entry === undefined || entry.signingInput !== key.signingInput) return undefined;
      if (now() >= entry.expiresAt || (entry.stillTrusted !== undefined && !entry.stillTrusted())) {
        entries.delete(key.hash);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, expiresAtMs, stillTrusted) {
      if (key === undefined) return;
      const expiresAt = Math.min(expiresAtMs, now() + ttlMs);
      if (!(expiresAt > now())) return;
      entries.delete(key.hash);
      while (entries.size >= maxEntries) {
        entries.delete(entries.keys().next().value as string);
      }
      entries.set(key.hash, { signingInput: detached(key.signingInput), value, expiresAt, stillTrusted });
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

/**
 * A copy of a string that keeps nothing of the string it was cut from: V8 keeps a long `slice` as a
 * view into the whole string, so the signing input cut from a token would keep the token, signature
 * included, for as long as the entry lives. Cutting a concatenation makes V8 first copy both parts into
 * a string of its own (it flattens it), and the cut is a view into that copy. The heap-snapshot test of
 * verified-token-cache.test.ts holds this to what V8 does.
 */
function detached(text: string): string {
  return `${text}.`.slice(0, -1);
}
