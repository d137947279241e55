// The signature check of the native JWS path (native-jws.ts): what node:crypto (node-crypto.ts) takes of
// each algorithm and key to decide exactly as jose and WebCrypto do.
import type { Base64urlReader } from "./native-base64url.js";
import type { NativeCrypto, NativeKey } from "./node-crypto.js";

/** How `node:crypto` checks one JWS algorithm, and what jose requires of its key. */
type NativeAlgorithm =
  | { readonly kind: "hmac"; readonly hash: string; readonly subtleHash: string }
  | {
      readonly kind: "ecdsa";
      readonly hash: string;
      readonly crv: string;
      readonly opensslCurve: string;
      readonly signatureLength: number;
    }
  | { readonly kind: "rsa"; readonly hash: string; readonly subtleHash: string; readonly pssSaltLength?: number }
  | { readonly kind: "eddsa" };

const hmac = (bits: number): NativeAlgorithm => ({ kind: "hmac", hash: `sha${bits}`, subtleHash: `SHA-${bits}` });
const rsa = (bits: number, pssSaltLength?: number): NativeAlgorithm => ({
  kind: "rsa",
  hash: `sha${bits}`,
  subtleHash: `SHA-${bits}`,
  pssSaltLength,
});
const ecdsa = (bits: number, crv: string, opensslCurve: string, signatureLength: number): NativeAlgorithm => ({
  kind: "ecdsa",
  hash: `sha${bits}`,
  crv,
  opensslCurve,
  signatureLength,
});

// The algorithms checked natively, as jose's JWS table defines them (jose/dist/webapi/lib/jws_algorithms.js);
// any other (ML-DSA, unknown names) is left to jose whole.
const nativeAlgorithms: ReadonlyMap<string, NativeAlgorithm> = new Map(
  Object.entries({
    HS256: hmac(256),
    HS384: hmac(384),
    HS512: hmac(512),
    RS256: rsa(256),
    RS384: rsa(384),
    RS512: rsa(512),
    PS256: rsa(256, 32),
    PS384: rsa(384, 48),
    PS512: rsa(512, 64),
    ES256: ecdsa(256, "P-256", "prime256v1", 64),
    ES384: ecdsa(384, "P-384", "secp384r1", 96),
    ES512: ecdsa(512, "P-521", "secp521r1", 132),
    EdDSA: { kind: "eddsa" },
    Ed25519: { kind: "eddsa" },
  }),
);

const encoder = new TextEncoder();
// Signing inputs up to this size are encoded into one reused buffer (a check is synchronous); larger
// ones into a buffer of their own, so that no large buffer is kept.
const maxScratchLength = 65536;

/**
 * @internal What jose's `isObject` accepts: a plain object (its prototype `Object.prototype` or `null`).
 *
 * ```ts
 * isPlainObject(JSON.parse("{}")); // true
 * isPlainObject([]); // false
 * ```
 *
 * Not checked: the object's members.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Object.prototype.toString.call(value) !== "[object Object]") return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return (value as { [Symbol.toStringTag]?: unknown } | null)?.[Symbol.toStringTag] === "CryptoKey";
}

/**
 * Whether a CryptoKey passes jose's checks for `alg` (prepareKey's type, checkCryptoKey's algorithm and
 * usage, checkModulusLength), read on every call as jose reads them.
 */
function cryptoKeyFits(key: CryptoKey, alg: NativeAlgorithm): boolean {
  const algorithm = key.algorithm as { name?: unknown; namedCurve?: unknown; hash?: { name?: unknown }; modulusLength?: unknown };
  if (key.type !== (alg.kind === "hmac" ? "secret" : "public") || !key.usages.includes("verify")) return false;
  switch (alg.kind) {
    case "hmac":
      return algorithm.name === "HMAC" && algorithm.hash?.name === alg.subtleHash;
    case "ecdsa":
      return algorithm.name === "ECDSA" && algorithm.namedCurve === alg.crv;
    case "rsa":
      return (
        algorithm.name === (alg.pssSaltLength === undefined ? "RSASSA-PKCS1-v1_5" : "RSA-PSS") &&
        algorithm.hash?.name === alg.subtleHash &&
        typeof algorithm.modulusLength === "number" &&
        algorithm.modulusLength >= 2048
      );
    case "eddsa":
      return algorithm.name === "Ed25519"; // for EdDSA and Ed25519 alike
  }
}

/** Whether a KeyObject is the kind of key `alg` verifies with (what WebCrypto would have imported). */
function keyObjectFits(key: NativeKey, alg: NativeAlgorithm, bits?: unknown): boolean {
  switch (alg.kind) {
    case "hmac":
      return key.type === "secret" && typeof key.symmetricKeySize === "number" && key.symmetricKeySize * 8 === bits;
    case "ecdsa":
      return key.type === "public" && key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === alg.opensslCurve;
    case "rsa": {
      const modulusLength = key.asymmetricKeyDetails?.modulusLength;
      return (
        key.type === "public" && key.asymmetricKeyType === "rsa" && typeof modulusLength === "number" && modulusLength >= 2048
      );
    }
    case "eddsa":
      return key.type === "public" && key.asymmetricKeyType === "ed25519";
  }
}

/**
 * The members of a public JWK that jose (prepareKey, jwkMatchesOp, jwkToKey) and then WebCrypto's import
 * accept for `alg`, as a list of what is known to pass: `undefined` for any other JWK (jose decides).
 */
function publicJwkMembers(jwk: Record<string, unknown>, alg: NativeAlgorithm, joseAlg: string): object | undefined {
  // Own members only, as jose's snapshot of a JWK reads them.
  const member = { __proto__: null, ...jwk } as Record<string, unknown>;
  const { kty, crv, x, y, n, e, ext, use, d, priv } = member;
  const keyOps = member["key_ops"];
  if (
    (ext !== undefined && typeof ext !== "boolean") ||
    // WebCrypto imports a public key with the JWK's key_ops as its usages: only ["verify"] both includes
    // "verify" (jose) and is allowed for a public key (WebCrypto).
    (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.length === 1 && keyOps[0] === "verify")) ||
    (use !== undefined && use !== "sig") ||
    (member["alg"] !== undefined && member["alg"] !== joseAlg) ||
    d !== undefined ||
    priv !== undefined
  ) {
    return undefined;
  }
  switch (alg.kind) {
    case "ecdsa":
      return kty === "EC" && crv === alg.crv && typeof x === "string" && typeof y === "string" ? { kty, crv, x, y } : undefined;
    case "rsa":
      return kty === "RSA" && typeof n === "string" && typeof e === "string" ? { kty, n, e } : undefined;
    case "eddsa":
      return kty === "OKP" && crv === "Ed25519" && typeof x === "string" ? { kty, crv, x } : undefined;
    case "hmac":
      return undefined;
  }
}

/**
 * @internal The native verification of one signature: `true` or `false`, or `undefined` where this
 * module does not match jose for the input (then jose decides). `lookedUp`: the key came from a key
 * lookup (a JWK from one is left to jose, which returns its own import of it).
 *
 * ```ts
 * const verified = checkSignature("ES256", cryptoKey, false, jws.slice(0, last), jws.slice(last + 1));
 * ```
 */
export type SignatureCheck = (
  alg: string,
  key: unknown,
  lookedUp: boolean,
  signingInput: string,
  signature: string,
) => boolean | undefined;

/**
 * @internal Creates the native signature check with this `node:crypto` (`nodeCryptoOf`), reading the
 * signature segment with `readBase64url` (jose's decoding: `base64urlReaderOf`). Keys are converted
 * once per key object: a CryptoKey with `KeyObject.from`, a JWK with `createPublicKey`.
 *
 * ```ts
 * const crypto = nodeCryptoOf(globalThis);
 * const checkSignature = crypto === undefined ? undefined : createSignatureCheck(crypto, base64urlReaderOf(globalThis));
 * ```
 *
 * Not checked: the header, the payload or the claims (the caller's, and jose's); a signing input that
 * is not ASCII, a key or an algorithm it does not match jose on is `undefined`, for jose to decide.
 */
export function createSignatureCheck(crypto: NativeCrypto, readBase64url: Base64urlReader): SignatureCheck {
  // CryptoKeys never change; a JWK is frozen before its KeyObject is kept, as jose freezes it. Bytes
  // (HMAC secrets) are not kept: they may change, and jose reads them on every call.
  const converted = new WeakMap<object, NativeKey>();

  const fromCryptoKey = (key: CryptoKey): NativeKey => {
    let native = converted.get(key);
    if (native === undefined) {
      native = crypto.KeyObject.from(key);
      converted.set(key, native);
    }
    return native;
  };

  const fromJwk = (jwk: Record<string, unknown>, alg: NativeAlgorithm, joseAlg: string): NativeKey | undefined => {
    const members = publicJwkMembers(jwk, alg, joseAlg);
    if (members === undefined) return undefined;
    if (!Object.isFrozen(jwk)) {
      // As jose's prepareKey does to a JWK it takes.
      if (Array.isArray(jwk["key_ops"])) Object.freeze(jwk["key_ops"]);
      Object.freeze(jwk);
    }
    let native = converted.get(jwk);
    if (native === undefined) {
      native = crypto.createPublicKey({ key: members, format: "jwk" });
      if (Object.isFrozen(jwk)) converted.set(jwk, native);
    }
    return native;
  };

  const nativeKeyOf = (
    key: unknown,
    alg: NativeAlgorithm,
    joseAlg: string,
    lookedUp: boolean,
  ): NativeKey | Uint8Array | undefined => {
    if (alg.kind === "hmac" && key instanceof Uint8Array) {
      // WebCrypto refuses an empty HMAC key, and views of shared memory.
      return key.byteLength > 0 && Object.prototype.toString.call(key.buffer) === "[object ArrayBuffer]" ? key : undefined;
    }
    if (isCryptoKey(key)) {
      if (!cryptoKeyFits(key, alg)) return undefined;
      const native = fromCryptoKey(key);
      return keyObjectFits(native, alg, (key.algorithm as { length?: unknown }).length) ? native : undefined;
    }
    // A JWK from a key lookup: jose returns its own import of it (a CryptoKey) as the result's key.
    if (!lookedUp && isPlainObject(key)) {
      const native = fromJwk(key, alg, joseAlg);
      return native !== undefined && keyObjectFits(native, alg) ? native : undefined;
    }
    return undefined; // a KeyObject, or no key: jose decides
  };

  const verifyWith = (alg: NativeAlgorithm, key: NativeKey | Uint8Array, data: Uint8Array, signature: Uint8Array): boolean => {
    switch (alg.kind) {
      case "hmac": {
        const mac = crypto.createHmac(alg.hash, key).update(data).digest();
        return mac.byteLength === signature.byteLength && crypto.timingSafeEqual(mac, signature);
      }
      case "ecdsa":
        // WebCrypto takes only the IEEE P1363 form, of exactly twice the curve's size.
        return (
          signature.byteLength === alg.signatureLength &&
          crypto.verify(alg.hash, data, { key: key as NativeKey, dsaEncoding: "ieee-p1363" }, signature)
        );
      case "rsa":
        return alg.pssSaltLength === undefined
          ? crypto.verify(alg.hash, data, key as NativeKey, signature)
          : crypto.verify(
              alg.hash,
              data,
              { key: key as NativeKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pssSaltLength },
              signature,
            );
      case "eddsa":
        return signature.byteLength === 64 && crypto.verify(null, data, key as NativeKey, signature);
    }
  };

  // The bytes of a signing input, or `undefined` for one that is not ASCII (jose refuses it). Encoded
  // into `scratch` (no allocation but the view): the bytes are read before the check returns.
  let scratch = new Uint8Array(1024);
  const asciiBytes = (text: string): Uint8Array | undefined => {
    if (text.length > maxScratchLength) {
      const bytes = encoder.encode(text);
      return bytes.byteLength === text.length ? bytes : undefined;
    }
    if (scratch.length < text.length) scratch = new Uint8Array(Math.max(text.length, 2 * scratch.length));
    // Every non-ASCII character takes more than one byte: ASCII exactly when each char is one byte.
    const { read, written } = encoder.encodeInto(text, scratch);
    return read === text.length && written === text.length ? scratch.subarray(0, written) : undefined;
  };

  return (joseAlg, key, lookedUp, signingInput, signatureSegment) => {
    const alg = nativeAlgorithms.get(joseAlg);
    if (alg === undefined) return undefined;
    try {
      // As jose decodes it (undefined where jose refuses it: jose decides); the bytes are wiped after.
      return readBase64url(signatureSegment, (signature) => {
        const native = nativeKeyOf(key, alg, joseAlg, lookedUp);
        if (native === undefined) return undefined;
        // Encoded last, just before it is read: nothing runs between (a key's getters ran above).
        const data = asciiBytes(signingInput);
        return data === undefined ? undefined : verifyWith(alg, native, data, signature); // not ASCII: jose refuses it
      });
    } catch {
      return undefined;
    }
  };
}
