import {
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type JWTVerifyResult,
  type ResolvedKey,
  UnsecuredJWT,
  base64url,
  compactVerify,
  errors,
  jwtVerify,
} from "jose";
import { boundedMemo } from "./bounded-memo.js";
import { type Base64urlReader, base64urlReaderOf } from "./native-base64url.js";
import { type SignatureCheck, createSignatureCheck, isPlainObject } from "./native-signature.js";
import { nodeCryptoOf } from "./node-crypto.js";
import { protectedHeaderOf } from "./protected-header.js";

// base64url('{"alg":"none"}'): the header of the unsecured JWT that has jose validate the claims.
const unsecuredHeader = base64url.encode('{"alg":"none"}');
// The same with a token's typ, for jose's check of the `typ` option: by typ (a server sees a few).
const unsecuredHeaderWith = boundedMemo(16, (typ) => base64url.encode(JSON.stringify({ alg: "none", typ })));
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether jose would go on to decode the header of `jwt` with these options: a string of three parts,
 * options an object (or absent) whose `algorithms` is a list of strings (or absent).
 */
function shapeReady(jwt: unknown, options: JWTVerifyOptions | undefined): jwt is string {
  if (typeof jwt !== "string" || (options !== undefined && (typeof options !== "object" || options === null))) return false;
  const algorithms = options?.algorithms;
  if (algorithms !== undefined && (!Array.isArray(algorithms) || algorithms.some((a) => typeof a !== "string"))) return false;
  const first = jwt.indexOf(".");
  return first >= 0 && jwt.indexOf(".", first + 1) === jwt.lastIndexOf(".");
}

/** Whether jose would look a key up for this decoded header: an allowed, non-empty `alg`, no `crit`. */
function headerReady(header: Record<string, unknown>, options: JWTVerifyOptions | undefined): boolean {
  const alg = header["alg"];
  if (header["crit"] !== undefined || typeof alg !== "string" || alg === "") return false;
  return options?.algorithms === undefined || options.algorithms.includes(alg);
}

/**
 * The token's protected header when jose would go on to look its key up, with nothing to refuse before:
 * a compact JWS, a JSON object header, an allowed `alg`, no `crit`. `undefined` for any other input,
 * which jose then verifies (and refuses) whole.
 */
function readyForKey(jwt: unknown, options: JWTVerifyOptions | undefined): Record<string, unknown> | undefined {
  if (!shapeReady(jwt, options)) return undefined;
  let header: Record<string, unknown>;
  try {
    header = protectedHeaderOf(jwt.slice(0, jwt.indexOf("."))); // what decodeProtectedHeader(jwt) returns for three parts
  } catch {
    return undefined;
  }
  return headerReady(header, options) ? header : undefined;
}

/** The claims, validated by jose exactly as `jwtVerify` does, of a token whose signature is verified. */
function validatedClaims(jwt: string, header: Record<string, unknown>, options: JWTVerifyOptions | undefined) {
  const first = jwt.indexOf(".");
  const payloadSegment = jwt.slice(first + 1, jwt.lastIndexOf("."));
  // jose compares the `typ` option with the token's header: the unsecured header carries the token's typ.
  const typ = header["typ"];
  const head =
    options?.typ === undefined
      ? unsecuredHeader
      : typeof typ === "string"
        ? unsecuredHeaderWith(typ)
        : base64url.encode(JSON.stringify({ alg: "none", typ }));
  return UnsecuredJWT.decode(`${head}.${payloadSegment}.`, options).payload;
}

/** jose's decode of a verified JWS payload segment into a JWT claims set (its errors, without their causes). */
function claimsOf(payloadSegment: string, readBase64url: Base64urlReader): Record<string, unknown> {
  // As jose's verification decodes the payload: undefined where jose refuses the segment.
  const claims = readBase64url(payloadSegment, claimsFrom);
  if (claims === undefined) throw new errors.JWSInvalid("Failed to base64url decode the payload");
  return claims;
}

/** jose's JSON decode of a JWT claims set (`validateClaimsSet`): strict UTF-8, a plain JSON object. */
function claimsFrom(bytes: Uint8Array): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = JSON.parse(strictDecoder.decode(bytes));
  } catch {
    claims = undefined; // the parser's message quotes the payload: not passed on
  }
  if (!isPlainObject(claims)) throw new errors.JWTInvalid("JWT Claims Set must be a top-level JSON object");
  return claims;
}

/**
 * The native path where the runtime has `node:crypto` and `native` is not `false`: the signature check,
 * and the reader of base64url segments it uses (Node's Buffer where it and jose's decoding agree).
 */
function nativePathOf(
  options: CreateVerifyJwtOptions,
  what: string,
): { readonly checkSignature: SignatureCheck; readonly readBase64url: Base64urlReader } | undefined {
  if (typeof options !== "object" || options === null) throw new TypeError(`${what}: options must be an object`);
  if (options.native !== undefined && typeof options.native !== "boolean") {
    throw new TypeError(`${what}: native must be a boolean`);
  }
  const scope = "scope" in options ? options.scope : globalThis;
  const crypto = options.native === false ? undefined : nodeCryptoOf(scope);
  if (crypto === undefined) return undefined;
  const readBase64url = base64urlReaderOf(scope);
  return { checkSignature: createSignatureCheck(crypto, readBase64url), readBase64url };
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
 * jose still does every other step: the header decode (once, shared with the precheck's through
 * `protectedHeaderOf`), the key lookup (called with jose's arguments),
 * the payload decode and the claims validation (`UnsecuredJWT.decode` of the same payload segment, with
 * the same options). The signature segment is decoded as jose decodes it, by Node's Buffer where the two
 * agree (`native-base64url.ts`). Keys are converted once per key object: a
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
  const verify = createNativeVerifyJwt(nativePathOf(options, "createVerifyJwt")?.checkSignature);
  return verify === undefined ? jwtVerify : (verify as unknown as typeof jwtVerify);
}

/**
 * The native verification of a JWT with this signature check (`undefined` without one): `decoded`, the
 * token's header as `protectedHeaderOf` decoded it for the caller, is used instead of decoding it again.
 */
function createNativeVerifyJwt(checkSignature: SignatureCheck | undefined) {
  if (checkSignature === undefined) return undefined;
  return async (jwt: string, key: unknown, verifyOptions?: JWTVerifyOptions, decoded?: Record<string, unknown>) => {
    const header =
      decoded === undefined
        ? readyForKey(jwt, verifyOptions)
        : shapeReady(jwt, verifyOptions) && headerReady(decoded, verifyOptions)
          ? decoded
          : undefined;
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
}

/**
 * @internal Verifies a JWT exactly as jose's `jwtVerify` does (same arguments, results and errors), with
 * the signature checked by `node:crypto` where the runtime has it ({@link createVerifyJwt}). With
 * {@link verifyJwsPayload} (DPoP proofs), the seams through which the server verifies JWS signatures.
 *
 * ```ts
 * const { payload, protectedHeader, key } = await verifyJwt(token, getKey, { algorithms: ["ES256"] });
 * ```
 *
 * Not checked beyond jose: anything; the native path refuses and accepts what jose does.
 */
export const verifyJwt: typeof jwtVerify = createVerifyJwt();

const nativeVerifyJwt = createNativeVerifyJwt(nativePathOf({}, "verifyPrecheckedJwt")?.checkSignature);

/**
 * @internal {@link verifyJwt} of a token whose protected header the caller has already decoded with
 * `protectedHeaderOf` (as `precheckJws` returns it): the header is not decoded a second time, and is
 * handed to the key lookup and returned as `protectedHeader`. Same results and errors as jose's
 * `jwtVerify(jwt, key, options)`.
 *
 * ```ts
 * const checked = precheckJws(token, precheck);
 * if (!("ok" in checked)) ({ payload, key } = await verifyPrecheckedJwt(token, checked.header, getKey, options));
 * ```
 *
 * Not checked: that `header` is the token's (pass exactly what `protectedHeaderOf` returned for the
 * text before its first dot, unchanged); beyond it, what jose checks.
 */
export function verifyPrecheckedJwt(
  jwt: string,
  header: Record<string, unknown>,
  key: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTVerifyResult & ResolvedKey> {
  if (nativeVerifyJwt === undefined) return jwtVerify(jwt, key, options);
  return nativeVerifyJwt(jwt, key, options, header) as Promise<JWTVerifyResult & ResolvedKey>;
}

/**
 * @internal The check of a compact JWS whose protected header the caller decoded and checked itself,
 * from {@link createVerifyJwsPayload}: resolves to the verified claims set, or rejects with jose's error.
 *
 * ```ts
 * const claims: Record<string, unknown> = await verify(proof, "ES256", publicKey);
 * ```
 */
export type VerifyJwsPayload = (jws: string, alg: string, key: CryptoKey) => Promise<Record<string, unknown>>;

/**
 * @internal Creates the check of a compact JWS whose protected header the caller has already decoded and
 * checked (`alg` is the header's and allowed; no `crit`, no `b64`), with the key the caller chose: the
 * signature first, by `node:crypto` where the runtime has it (as {@link createVerifyJwt}) and else by
 * jose's `compactVerify` (`algorithms: [alg]`, which decodes and checks the header again); then the
 * payload, decoded as jose's `jwtVerify` decodes it (jose's base64url, by Buffer where the two agree;
 * strict UTF-8, `JSON.parse`, a plain object: a payload jose refuses is refused). So the header is not
 * decoded again, and no claim is validated.
 *
 * ```ts
 * const verify = createVerifyJwsPayload();
 * const claims = await verify(proof, "ES256", publicKey); // { jti, htm, htu, iat, … }
 * ```
 *
 * Not checked: the header (the caller's), and no claim at all: not `exp`, `nbf`, `iat`, `typ`, `iss` nor
 * `aud` (use {@link verifyJwt} for jose's claims validation). Errors are jose's classes with jose's
 * messages and no cause: `JWSSignatureVerificationFailed`, `JWSInvalid` (the payload is not base64url),
 * `JWTInvalid` (not a JSON object), or whatever `compactVerify` throws where jose decides.
 */
export function createVerifyJwsPayload(options: CreateVerifyJwtOptions = {}): VerifyJwsPayload {
  const native = nativePathOf(options, "createVerifyJwsPayload");
  return async (jws, alg, key) => {
    const last = jws.lastIndexOf(".");
    const verified = native?.checkSignature(alg, key, false, jws.slice(0, last), jws.slice(last + 1));
    if (native === undefined || verified === undefined) {
      return claimsFrom((await compactVerify(jws, key, { algorithms: [alg] })).payload);
    }
    if (!verified) throw new errors.JWSSignatureVerificationFailed();
    return claimsOf(jws.slice(jws.indexOf(".") + 1, last), native.readBase64url);
  };
}

/**
 * @internal {@link createVerifyJwsPayload} with `node:crypto` where the runtime has it: how the DPoP proof
 * verifier checks a proof whose header it already checked.
 *
 * ```ts
 * const claims = await verifyJwsPayload(proof, entry.alg, entry.key);
 * ```
 *
 * Not checked: the header, nor any claim (the caller checks the ones it needs).
 */
export const verifyJwsPayload: VerifyJwsPayload = createVerifyJwsPayload();
