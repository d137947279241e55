import { type CryptoKey, type JSONWebKeySet, type JWK, type JWTVerifyGetKey, calculateJwkThumbprint } from "jose";

/**
 * @internal What a remote key source knows of the key set it fetched last, for the verified-token
 * cache: a token verified by a key the issuer has since removed from its set (as it does with a
 * compromised key) stops being served from the cache as soon as a fetch shows the key gone.
 *
 * ```ts
 * const watch = keySetWatchOf(getKey);
 * const { payload, key } = await jwtVerify(token, getKey, options);
 * cache.set(cacheKey, outcome, payload.exp! * 1000, await watch?.trustCheck(key));
 * ```
 *
 * Keys are told apart by their RFC 7638 thumbprint (jose's `calculateJwkThumbprint`), so a key kept
 * across fetches stays trusted whatever its `kid`. Not checked: a key's other members (`use`,
 * `key_ops`, `alg`) changing while the key stays.
 */
export interface KeySetWatch {
  /**
   * A check that holds while `key` (one the key source returned) is in the key set fetched last; it
   * allocates nothing. A failed fetch (an outage) changes nothing; a fetch without the key makes it
   * false at once. A key whose thumbprint cannot be computed gets a check that is always false (it is
   * never served from the cache).
   */
  trustCheck(key: unknown): Promise<() => boolean>;
}

/** @internal A {@link KeySetWatch} and the way its key source tells it of a fetched set. */
export interface KeySetObserver extends KeySetWatch {
  /**
   * Takes in the key set fetched last (`undefined`: none yet). A set seen before costs nothing and
   * returns `undefined`; a new one returns a promise, resolved when the checks follow it.
   */
  observe(jwks: JSONWebKeySet | undefined): Promise<void> | undefined;
}

const watches = new WeakMap<JWTVerifyGetKey, KeySetWatch>();

/**
 * @internal The {@link KeySetWatch} of a key lookup made by `createRemoteKeySource` or
 * `createDiscoveryKeySource`; `undefined` for any other (local keys never change, and your own
 * lookup is not watched: its keys are honored through the cache until the cache's TTL).
 *
 * ```ts
 * keySetWatchOf(createRemoteKeySource(new URL("https://issuer.example.com/jwks"))); // a KeySetWatch
 * ```
 */
export function keySetWatchOf(getKey: JWTVerifyGetKey): KeySetWatch | undefined {
  return watches.get(getKey);
}

/**
 * @internal Creates the observer of one remote key source, registered for {@link keySetWatchOf} on
 * `getKey`.
 *
 * ```ts
 * const observer = createKeySetObserver(getKey);
 * await observer.observe(fetched.jwks); // after each lookup
 * ```
 */
export function createKeySetObserver(getKey: JWTVerifyGetKey): KeySetObserver {
  let trusted: ReadonlySet<string> = new Set();
  let observed: JSONWebKeySet | undefined;
  let following: Promise<void> | undefined;
  // Per key object: jose imports each key once per fetched set, so this runs once per key and fetch.
  const thumbprints = new WeakMap<object, Promise<string | undefined>>();
  const observer: KeySetObserver = {
    observe(jwks) {
      if (jwks === undefined || jwks === observed) return following;
      observed = jwks;
      const next = thumbprintsOf(jwks).then((set) => {
        if (observed === jwks) trusted = set;
      });
      following = next;
      void next.then(() => {
        if (following === next) following = undefined;
      });
      return next;
    },
    async trustCheck(key) {
      if (typeof key !== "object" || key === null) return never;
      let pending = thumbprints.get(key);
      if (pending === undefined) {
        pending = thumbprintOf(key as CryptoKey);
        thumbprints.set(key, pending);
      }
      const thumbprint = await pending;
      return thumbprint === undefined ? never : () => trusted.has(thumbprint);
    },
  };
  watches.set(getKey, observer);
  return observer;
}

const never = () => false;

async function thumbprintOf(key: CryptoKey | JWK): Promise<string | undefined> {
  try {
    return await calculateJwkThumbprint(key);
  } catch {
    return undefined;
  }
}

async function thumbprintsOf(jwks: JSONWebKeySet): Promise<ReadonlySet<string>> {
  const all = await Promise.all((Array.isArray(jwks.keys) ? jwks.keys : []).map(thumbprintOf));
  return new Set(all.filter((t): t is string => t !== undefined));
}
