import { type CryptoKey, type JSONWebKeySet, type JWK, createLocalJWKSet } from "jose";
import type { ResolvedKeySource } from "./key-source.js";
import { localKeysStatus, registerKeySourceStatus } from "./key-source-status.js";

/** @internal The keys held in memory: a JWKS, one public `CryptoKey` or JWK, or HMAC secret bytes. */
export type LocalKeys = JSONWebKeySet | CryptoKey | JWK | Uint8Array;

const minSecretBytes = 32;

/**
 * @internal The key lookup of keys held in memory, checked at once: an HMAC secret shorter than 32
 * bytes or looking like PEM or DER, a private key, a JWKS entry without `kty` or with private members,
 * or an HMAC secret as a JWK throws `TypeError`. A single key also says its family, so that the
 * algorithms can be checked against it at construction.
 *
 * ```ts
 * localKeySource({ keys: [publicJwk] }, "createJwtAuthenticator").getKey; // jose's createLocalJWKSet
 * localKeySource(secretBytes, "createJwtAuthenticator").family; // "hmac"
 * ```
 *
 * Each lookup is always ready for `keySourceStatusOf` (nothing to fetch). Not checked: the key sizes
 * of public keys (jose checks RSA's), nor `use`, `key_ops` or `alg` members.
 */
export function localKeySource(keys: LocalKeys, what: string): ResolvedKeySource {
  if (keys instanceof Uint8Array) {
    checkSecret(keys, what);
    const secret = keys;
    return { getKey: local(() => secret), family: "hmac" };
  }
  if (typeof keys === "object" && keys !== null && Array.isArray((keys as JSONWebKeySet).keys)) {
    const set = keys as JSONWebKeySet;
    for (const k of set.keys) checkPublicJwk(k, what);
    return { getKey: local(createLocalJWKSet(set)) };
  }
  if (typeof keys === "object" && keys !== null && "type" in keys && "algorithm" in keys) {
    const key = keys as CryptoKey;
    if (key.type === "private") {
      throw new TypeError(`${what}: keys must be a public key, not a private key`);
    }
    return { getKey: local(() => key), family: key.type === "secret" ? "hmac" : "asymmetric" };
  }
  if (typeof keys === "object" && keys !== null && typeof (keys as JWK).kty === "string") {
    const jwk = keys as JWK;
    checkPublicJwk(jwk, what);
    if (jwk.kty === "oct") {
      throw new TypeError(`${what}: pass an HMAC secret as bytes (Uint8Array), not as a JWK`);
    }
    return { getKey: local(createLocalJWKSet({ keys: [jwk] })), family: "asymmetric" };
  }
  throw new TypeError(`${what}: keys must be a JWKS, a JWKS URL, a CryptoKey, a JWK, an HMAC secret or a key getter`);
}

/** A lookup of keys held in memory, always ready for `keySourceStatusOf`. */
function local<T extends ResolvedKeySource["getKey"]>(getKey: T): T {
  return registerKeySourceStatus(getKey, localKeysStatus);
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
