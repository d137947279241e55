import type { CryptoKey, JSONWebKeySet, JWK, JWTVerifyGetKey } from "jose";
import type { KeyFamily } from "./key-type-guard.js";
import { localKeySource } from "./local-key-source.js";
import { type RemoteKeyOptions, remoteKeySource } from "./remote-key-source.js";

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
 * OIDC discovery is the `discovery` option of `createJwtAuthenticator`.
 *
 * ```ts
 * const keys: JwtKeySource = new URL("https://issuer.example.com/.well-known/jwks.json");
 * ```
 *
 * Not checked here: anything; the authenticator checks the keys when it is created.
 */
export type JwtKeySource = JSONWebKeySet | URL | CryptoKey | JWK | Uint8Array | JWTVerifyGetKey;

/** @internal A key lookup that knows which algorithms its keys may be used with. */
export interface ResolvedKeySource {
  readonly getKey: JWTVerifyGetKey;
  /** For local single keys: the only algorithm family the key can verify. */
  readonly family?: KeyFamily;
}

/**
 * @internal Resolves the `keys` option into a key lookup: your own lookup as it is, a `URL` as a
 * remote key set (`createRemoteKeySource`), anything else as keys held in memory, checked at once (an
 * HMAC secret shorter than 32 bytes or looking like PEM text, or a private key, throws `TypeError`).
 *
 * ```ts
 * const { getKey, family } = resolveKeySource(options.keys, options.remote ?? {}, "createJwtAuthenticator");
 * ```
 *
 * The lookups of a URL and of keys held in memory have a status (`keySourceStatusOf`: live for a URL,
 * always ready in memory); your own lookup has none. Not checked: the keys your own lookup returns (the
 * key-type guard checks each one per call).
 */
export function resolveKeySource(keys: JwtKeySource, remote: RemoteKeyOptions, what: string): ResolvedKeySource {
  if (typeof keys === "function") {
    return { getKey: keys };
  }
  if (keys instanceof URL) {
    return { getKey: remoteKeySource(keys, remote, { what }) };
  }
  return localKeySource(keys, what);
}
