import { type JWTVerifyOptions, UnsecuredJWT, base64url, decodeProtectedHeader, errors, jwtVerify } from "jose";

/** A key as `node:crypto` holds it (a `KeyObject`), as far as this module reads it. */
interface NativeKey {
  readonly type: string;
  readonly asymmetricKeyType?: string;
  readonly asymmetricKeyDetails?: { readonly namedCurve?: string; readonly modulusLength?: number };
  readonly symmetricKeySize?: number;
}

/**
 * @internal The part of `node:crypto` the native path uses (typed here: this isomorphic package has no
 * Node types).
 *
 * ```ts
 * const crypto = nodeCryptoOf(globalThis); // NativeCrypto | undefined
 * ```
 */
export interface NativeCrypto {
  verify(
    algorithm: string | null,
    data: Uint8Array,
    key: NativeKey | { key: NativeKey; dsaEncoding?: string; padding?: number; saltLength?: number },
    signature: Uint8Array,
  ): boolean;
  createHmac(algorithm: string, key: NativeKey | Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } };
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  createPublicKey(key: { key: object; format: "jwk" }): NativeKey;
  readonly KeyObject: { from(key: CryptoKey): NativeKey };
  readonly constants: { readonly RSA_PKCS1_PSS_PADDING: number };
}

type WithBuiltins = {
  process?: { versions?: { node?: unknown; bun?: unknown }; getBuiltinModule?: (id: string) => unknown };
  Deno?: unknown;
};

function isNativeCrypto(value: unknown): value is NativeCrypto {
  const c = value as Partial<NativeCrypto> | null | undefined;
  return (
    typeof c?.verify === "function" &&
    typeof c.createHmac === "function" &&
    typeof c.timingSafeEqual === "function" &&
    typeof c.createPublicKey === "function" &&
    typeof c.KeyObject?.from === "function" &&
    typeof c.constants?.RSA_PKCS1_PSS_PADDING === "number"
  );
}

/**
 * @internal The `node:crypto` of Node, found at run time through `process.getBuiltinModule` (as
 * `nativeSha256` finds `crypto.hash`) so that this isomorphic module imports nothing from `node:*`;
 * `undefined` where there is none (browsers, workers, Node < 20.16) and in Deno and Bun, whose
 * `node:crypto` is not the one the differential test holds to jose's behaviour.
 *
 * ```ts
 * nodeCryptoOf(globalThis); // node:crypto on Node ≥ 20.16
 * nodeCryptoOf({}); // undefined
 * ```
 *
 * Not checked: the module's behaviour, beyond the presence of the functions used.
 */
export function nodeCryptoOf(scope: unknown): NativeCrypto | undefined {
  try {
    const { process, Deno } = (scope ?? {}) as WithBuiltins;
    if (Deno !== undefined || typeof process?.versions?.node !== "string" || process.versions.bun !== undefined) {
      return undefined;
    }
    const crypto = process.getBuiltinModule?.("node:crypto");
    return isNativeCrypto(crypto) ? crypto : undefined;
  } catch {
    return undefined;
  }
}

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
// base64url('{"alg":"none"}'): the header of the unsecured JWT that has jose validate the claims.
const unsecuredHeader = base64url.encode('{"alg":"none"}');

/** What jose's `isObject` accepts: a plain object (its prototype `Object.prototype` or `null`). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
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
 * The native verification of one signature: `true` or `false`, or `undefined` where this module does
 * not match jose for the input (then jose decides). Keys are converted once per key object.
 */
type SignatureCheck = (
  alg: string,
  key: unknown,
  lookedUp: boolean,
  signingInput: string,
  signature: string,
) => boolean | undefined;

function createSignatureCheck(crypto: NativeCrypto): SignatureCheck {
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

  return (joseAlg, key, lookedUp, signingInput, signatureSegment) => {
    const alg = nativeAlgorithms.get(joseAlg);
    if (alg === undefined) return undefined;
    try {
      const data = encoder.encode(signingInput);
      if (data.byteLength !== signingInput.length) return undefined; // not ASCII: jose refuses it
      const signature = base64url.decode(signatureSegment); // jose's strict decoder, not Buffer's
      const native = nativeKeyOf(key, alg, joseAlg, lookedUp);
      return native === undefined ? undefined : verifyWith(alg, native, data, signature);
    } catch {
      return undefined;
    }
  };
}

/**
 * The token's protected header when jose would go on to look its key up, with nothing to refuse before:
 * a compact JWS, a JSON object header, an allowed `alg`, no `crit`. `undefined` for any other input,
 * which jose then verifies (and refuses) whole.
 */
function readyForKey(jwt: unknown, options: JWTVerifyOptions | undefined): Record<string, unknown> | undefined {
  if (typeof jwt !== "string" || (options !== undefined && (typeof options !== "object" || options === null))) return undefined;
  const algorithms = options?.algorithms;
  if (algorithms !== undefined && (!Array.isArray(algorithms) || algorithms.some((a) => typeof a !== "string"))) return undefined;
  const first = jwt.indexOf(".");
  const last = jwt.lastIndexOf(".");
  if (first < 0 || jwt.indexOf(".", first + 1) !== last) return undefined;
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jwt) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const alg = header["alg"];
  if (header["crit"] !== undefined || typeof alg !== "string" || alg === "") return undefined;
  if (algorithms !== undefined && !algorithms.includes(alg)) return undefined;
  return header;
}

/** The claims, validated by jose exactly as `jwtVerify` does, of a token whose signature is verified. */
function validatedClaims(jwt: string, header: Record<string, unknown>, options: JWTVerifyOptions | undefined) {
  const first = jwt.indexOf(".");
  const payloadSegment = jwt.slice(first + 1, jwt.lastIndexOf("."));
  // jose compares the `typ` option with the token's header: the unsecured header carries the token's typ.
  const head =
    options?.typ === undefined ? unsecuredHeader : base64url.encode(JSON.stringify({ alg: "none", typ: header["typ"] }));
  return UnsecuredJWT.decode(`${head}.${payloadSegment}.`, options).payload;
}

/** @internal Options of {@link createVerifyJwt}. */
export interface CreateVerifyJwtOptions {
  /** `false`: jose's `jwtVerify` itself. Default: `true` (native where the runtime has `node:crypto`). */
  readonly native?: boolean;
  /** Where `node:crypto` is looked for ({@link nodeCryptoOf}). Default: `globalThis`. */
  readonly scope?: unknown;
}

/**
 * @internal Creates a function that verifies a JWT exactly as jose's `jwtVerify` does (same arguments,
 * results and errors: class, `code`, message, `claim`), with the signature checked by `node:crypto`
 * (`crypto.verify`, HMAC with `timingSafeEqual`) where the runtime has it, and by jose everywhere else.
 *
 * jose still does every other step: the header decode, the signature's base64url decode, the key lookup
 * (called with jose's arguments), the payload decode and the claims validation (`UnsecuredJWT.decode`
 * of the same payload segment, with the same options). Keys are converted once per key object: a
 * CryptoKey with `KeyObject.from`, a JWK with `createPublicKey`. Any input this module does not match
 * jose on (a KeyObject, an unusual JWK or CryptoKey, ML-DSA, `crit`, a token jose refuses before its
 * key lookup, a claims set that is not a JSON object) goes to jose whole, after at most one key lookup.
 *
 * ```ts
 * const verify = createVerifyJwt();
 * const { payload, protectedHeader } = await verify(token, publicJwk, { algorithms: ["ES256"] });
 * createVerifyJwt({ native: false }) === jwtVerify; // true
 * ```
 *
 * Not checked beyond jose: the native path adds no check of its own. Synchronous where native: a
 * signature is checked on the calling thread, not WebCrypto's pool.
 */
export function createVerifyJwt(options: CreateVerifyJwtOptions = {}): typeof jwtVerify {
  if (typeof options !== "object" || options === null) throw new TypeError("createVerifyJwt: options must be an object");
  if (options.native !== undefined && typeof options.native !== "boolean") {
    throw new TypeError("createVerifyJwt: native must be a boolean");
  }
  const crypto = options.native === false ? undefined : nodeCryptoOf("scope" in options ? options.scope : globalThis);
  if (crypto === undefined) return jwtVerify;
  const checkSignature = createSignatureCheck(crypto);

  const verify = async (jwt: string, key: unknown, verifyOptions?: JWTVerifyOptions) => {
    const header = readyForKey(jwt, verifyOptions);
    if (header === undefined) return jwtVerify(jwt, key as Uint8Array, verifyOptions);
    const lookup = typeof key === "function";
    const first = jwt.indexOf(".");
    const last = jwt.lastIndexOf(".");
    const resolved: unknown = lookup
      ? await key(header, { payload: jwt.slice(first + 1, last), protected: jwt.slice(0, first), signature: jwt.slice(last + 1) })
      : key;
    // jose whole, with the key already looked up (it is not looked up twice).
    const byJose = () => jwtVerify(jwt, (lookup ? () => resolved : resolved) as Uint8Array, verifyOptions);
    const verified = checkSignature(header["alg"] as string, resolved, lookup, jwt.slice(0, last), jwt.slice(last + 1));
    if (verified === undefined) return byJose();
    if (!verified) throw new errors.JWSSignatureVerificationFailed();
    let payload;
    try {
      payload = validatedClaims(jwt, header, verifyOptions);
    } catch (error) {
      // The payload is not base64url or not a JSON object: jose says which, with its error class.
      if (error instanceof errors.JWTInvalid) return byJose();
      throw error;
    }
    return lookup ? { payload, protectedHeader: header, key: resolved } : { payload, protectedHeader: header };
  };
  return verify as unknown as typeof jwtVerify;
}

/**
 * @internal Verifies a JWT exactly as jose's `jwtVerify` does (same arguments, results and errors), with
 * the signature checked by `node:crypto` where the runtime has it ({@link createVerifyJwt}). The one
 * seam through which the server verifies JWS signatures.
 *
 * ```ts
 * const { payload, protectedHeader, key } = await verifyJwt(token, getKey, { algorithms: ["ES256"] });
 * ```
 *
 * Not checked beyond jose: anything; the native path refuses and accepts what jose does.
 */
export const verifyJwt: typeof jwtVerify = createVerifyJwt();
