import {
  type JWTPayload,
  type ProtectedHeaderParameters,
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  importJWK,
} from "jose";
import { Reason } from "@connectauth/core";
import type { DpopNonces } from "./dpop-nonce.js";
import { type JoseErrorCode, joseCodeOf } from "./jose-errors.js";
import { verifyJwt } from "./native-jws.js";
import { integerAtLeast, nonNegative } from "./option-checks.js";
import { type ReplayStore, createMemoryReplayStore } from "./replay-store.js";
import { sha256Latin1 } from "./sha256.js";

/** Options of {@link createDpopProofVerifier}. */
export interface DpopProofOptions {
  /** Proof algorithms accepted (asymmetric JWS algs only). Default ["ES256","ES384","EdDSA","Ed25519","RS256","PS256"]; TypeError on "none", HS*, unknown names, empty list. */
  readonly algorithms?: readonly string[];
  /** How far a proof's iat may be from now, in seconds. Default 60. */
  readonly iatWindowSeconds?: number;
  /** Added to the window on both sides. Default 0 (the authenticator passes its own). */
  readonly clockToleranceSeconds?: number;
  /** Default: createMemoryReplayStore({ now }). */
  readonly replayStore?: ReplayStore;
  /** How long to wait for the replay store, ms. Default 1000; past it: REPLAY_STORE_UNAVAILABLE. */
  readonly replayTimeoutMs?: number;
  /** When set, proofs must carry the current (or previous) nonce. */
  readonly nonces?: DpopNonces;
  /** The public origin of this server (e.g. "https://api.example.com") when it sits behind a proxy: htu is compared with it instead of the request URL's origin. */
  readonly publicOrigin?: string;
  /** The largest proof accepted, in characters. Default 4096. */
  readonly maxProofLength?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** One DPoP proof to check, with what it must match (RFC 9449 §4.3). */
export interface DpopProofInput {
  /** The DPoP header value (the caller checked there is exactly one). */
  readonly proof: string;
  /** The request's HTTP method, e.g. "POST". */
  readonly httpMethod: string;
  /** The request URL as the server received it (absolute). */
  readonly url: string;
  /** The access token presented with the proof, for `ath`. */
  readonly accessToken: string;
  /** The replay scope, e.g. the token's issuer: a `jti` is accepted once per scope and key. */
  readonly scope: string;
}

/** The fixed words of {@link DpopProofResult}'s `detail`: which check refused the proof. */
export type DpopProofDetail =
  | "format"
  | "typ"
  | "alg"
  | "jwk"
  | "signature"
  | "jti"
  | "htm"
  | "htu"
  | "iat"
  | "ath"
  | "nonce"
  | "jti_replay"
  | "replay_store";

/** What {@link DpopProofVerifier.verify} decided: the key's thumbprint, or the refusal. */
export type DpopProofResult =
  | {
      readonly ok: true;
      /** The RFC 7638 SHA-256 thumbprint of the proof's key (base64url), to compare with the token's `cnf.jkt`. */
      readonly jkt: string;
    }
  | {
      readonly ok: false;
      readonly reason: typeof Reason.InvalidDpopProof | typeof Reason.UseDpopNonce | typeof Reason.ReplayStoreUnavailable;
      /** A fixed word: which check failed. */
      readonly detail: DpopProofDetail;
      /** For humans; never holds proof, token or key text. */
      readonly message: string;
      /** With `USE_DPOP_NONCE`: the nonce to send in the `DPoP-Nonce` response header. */
      readonly nonce?: string;
    };

/** Checks DPoP proofs; from {@link createDpopProofVerifier}. */
export interface DpopProofVerifier {
  /** Checks one proof against its request and token. Resolves to a result; rejects only when `nonces` throws. */
  verify(input: DpopProofInput): Promise<DpopProofResult>;
  /** The accepted algorithms, for the challenge's algs. */
  readonly algorithms: readonly string[];
}

const what = "createDpopProofVerifier";
const defaultAlgorithms = ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"] as const;
// The asymmetric JWS algorithms jose verifies with WebCrypto keys: what a proof may be signed with.
const asymmetricAlgorithms: ReadonlySet<string> = new Set([
  ...["ES256", "ES384", "ES512", "EdDSA", "Ed25519"],
  ...["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
]);
const publicKeyTypes: ReadonlySet<unknown> = new Set(["EC", "RSA", "OKP"]);
const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ascii = /^[\x00-\x7f]*$/;
const maxJtiLength = 256;
const maxCachedKeys = 1000;

const messages: Record<DpopProofDetail, string> = {
  format: "the DPoP proof is not a compact JWS of an accepted form",
  typ: "the DPoP proof's typ is not dpop+jwt",
  alg: "the DPoP proof's algorithm is not accepted",
  jwk: "the DPoP proof's jwk is not a usable public key",
  signature: "the DPoP proof's signature does not verify with its jwk",
  jti: "the DPoP proof's jti is missing or invalid",
  htm: "the DPoP proof's htm does not match the request method",
  htu: "the DPoP proof's htu does not match the request URL",
  iat: "the DPoP proof's iat is missing or outside the accepted window",
  ath: "the DPoP proof's ath does not match the access token",
  nonce: "the DPoP proof must carry the server's current nonce",
  jti_replay: "the DPoP proof was already used",
  replay_store: "the DPoP replay store did not answer",
};

type Refusal = Extract<DpopProofResult, { ok: false }>;
type VerifyingKey = { readonly key: CryptoKey; readonly jkt: string };

/**
 * Creates the server's check of DPoP proofs (RFC 9449 §4.3) for calls with a DPoP-bound access token:
 * the proof is a compact JWS with `typ` `dpop+jwt`, an accepted asymmetric `alg`, and a public `jwk`
 * in its header that verifies its signature (through `verifyJwt`); its `jti`, `htm`, `htu`, `iat` and
 * `ath` match the call and the token; with `nonces`, it carries a current nonce (§8); and its `jti` is
 * new for this scope and key in the replay store (§11.1), which only a proof that passed every other
 * check reaches. A refusal is a value with a fixed `detail` word; its message names no proof, token or
 * key text.
 *
 * Each imported key and its RFC 7638 thumbprint are kept in a bounded map (1,000 keys) keyed by the
 * algorithm and the JWK's JSON text, so a client's steady calls cost a map look-up and the signature
 * check, with no key import or thumbprint after the first.
 *
 * ```ts
 * const dpop = createDpopProofVerifier({ nonces, publicOrigin: "https://api.example.com" });
 * const result = await dpop.verify({ proof, httpMethod: "POST", url: request.url, accessToken, scope: issuer });
 * if (result.ok && result.jkt !== payload.cnf?.jkt) { ... } // the token is bound to another key
 * ```
 *
 * Not checked here: that the token is bound to this key (compare `jkt` with its `cnf.jkt`), that the
 * request carried exactly one `DPoP` header, nor the token itself. `htu` is compared as origin and path
 * after WHATWG URL normalisation (scheme and host case, default port, dot segments); percent-encoding
 * is compared as sent.
 *
 * @throws TypeError on bad options: an empty, `none`, `HS*` or unknown algorithm; a window, tolerance,
 * timeout or length out of range; a replay store or nonces without their methods; a `publicOrigin`
 * that is not an http(s) origin.
 */
export function createDpopProofVerifier(options: DpopProofOptions = {}): DpopProofVerifier {
  const algorithms = algorithmsOf(options.algorithms);
  const allowed: ReadonlySet<string> = new Set(algorithms);
  const verifyOptions = { typ: "dpop+jwt", algorithms: [...algorithms] };
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError(`${what}: now must be a function`);
  const window = options.iatWindowSeconds ?? 60;
  if (typeof window !== "number" || !Number.isFinite(window) || window <= 0) {
    throw new TypeError(`${what}: iatWindowSeconds must be a finite number > 0`);
  }
  const tolerance = nonNegative(options.clockToleranceSeconds, 0, "clockToleranceSeconds", what);
  const span = window + tolerance;
  const replayTimeoutMs = integerAtLeast(1, options.replayTimeoutMs, 1000, "replayTimeoutMs", what);
  const maxProofLength = integerAtLeast(1, options.maxProofLength, 4096, "maxProofLength", what);
  const store = options.replayStore ?? createMemoryReplayStore({ now });
  if (typeof store?.add !== "function") throw new TypeError(`${what}: replayStore must have an add method`);
  const { nonces } = options;
  if (nonces !== undefined && (typeof nonces?.current !== "function" || typeof nonces.check !== "function")) {
    throw new TypeError(`${what}: nonces must have current and check methods (createDpopNonces)`);
  }
  const publicOrigin = options.publicOrigin === undefined ? undefined : originOf(options.publicOrigin);
  const keys = new Map<string, VerifyingKey>();

  const keyOf = async (alg: string, jwk: Record<string, unknown>): Promise<VerifyingKey | undefined> => {
    const text = `${alg}\n${JSON.stringify(jwk)}`;
    const cached = keys.get(text);
    if (cached !== undefined) return cached;
    let verifying: VerifyingKey;
    try {
      const key = await importJWK(jwk, alg);
      if (!isPublicKey(key)) return undefined;
      verifying = { key, jkt: await calculateJwkThumbprint(jwk) };
    } catch {
      return undefined; // jose's and WebCrypto's errors name the key's members: not passed on
    }
    if (keys.size >= maxCachedKeys) keys.delete(keys.keys().next().value as string);
    keys.set(text, verifying);
    return verifying;
  };

  const record = async (key: string, expiresAtMs: number): Promise<boolean | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, replayTimeoutMs, undefined);
    });
    try {
      const added: unknown = await Promise.race([store.add(key, expiresAtMs), timeout]);
      return typeof added === "boolean" ? added : undefined; // anything else is no answer
    } catch {
      return undefined; // the store's error may name the key (a jti): not passed on
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    algorithms,
    async verify(input) {
      const t = now();
      const { proof } = input;
      if (typeof proof !== "string" || proof.length > maxProofLength || !compactJws.test(proof)) return refuse("format");
      let header: ProtectedHeaderParameters;
      try {
        header = decodeProtectedHeader(proof);
      } catch {
        return refuse("format");
      }
      if (typeof header.typ !== "string" || normalizeTyp(header.typ) !== "dpop+jwt") return refuse("typ");
      const { alg } = header;
      if (typeof alg !== "string" || !allowed.has(alg)) return refuse("alg");
      const jwk: unknown = header.jwk;
      if (!isPublicJwk(jwk, alg)) return refuse("jwk");
      if (header.crit !== undefined || header.b64 !== undefined) return refuse("format");
      const verifying = await keyOf(alg, jwk);
      if (verifying === undefined) return refuse("jwk");
      let payload: JWTPayload;
      try {
        ({ payload } = await verifyJwt(proof, verifying.key, {
          ...verifyOptions,
          currentDate: new Date(t),
          clockTolerance: tolerance,
        }));
      } catch (error) {
        return refuse(detailOfJoseError(error));
      }
      const { jti, iat } = payload;
      if (typeof jti !== "string" || jti === "" || jti.length > maxJtiLength) return refuse("jti");
      const htm = payload["htm"];
      if (typeof htm !== "string" || htm !== input.httpMethod) return refuse("htm");
      const htu = payload["htu"];
      const target = targetOf(input.url, publicOrigin);
      if (typeof htu !== "string" || target === undefined || targetOf(htu, undefined, true) !== target) return refuse("htu");
      if (typeof iat !== "number" || !Number.isFinite(iat) || Math.abs(iat - t / 1000) > span) return refuse("iat");
      const ath = athOf(input.accessToken);
      if (ath === undefined || payload["ath"] !== ath) return refuse("ath");
      if (nonces !== undefined) {
        const nonce = payload["nonce"];
        if (typeof nonce !== "string" || !(await nonces.check(nonce))) {
          return { ...refuse("nonce", Reason.UseDpopNonce), nonce: await nonces.current() };
        }
      }
      const added = await record(`${input.scope}\n${verifying.jkt}\n${jti}`, (iat + span) * 1000);
      if (added === undefined) return refuse("replay_store", Reason.ReplayStoreUnavailable);
      if (!added) return refuse("jti_replay");
      return { ok: true, jkt: verifying.jkt };
    },
  };
}

function refuse(detail: DpopProofDetail, reason: Refusal["reason"] = Reason.InvalidDpopProof): Refusal {
  return { ok: false, reason, detail, message: messages[detail] };
}

function algorithmsOf(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return Object.freeze([...defaultAlgorithms]);
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${what}: algorithms must be a non-empty list of asymmetric JWS algorithms`);
  }
  for (const alg of value) {
    if (typeof alg !== "string" || !asymmetricAlgorithms.has(alg)) {
      throw new TypeError(
        `${what}: algorithms: ${JSON.stringify(alg)} is not an asymmetric JWS algorithm (ES256, EdDSA, RS256, PS256, …)`,
      );
    }
  }
  return Object.freeze([...new Set<string>(value)]);
}

function originOf(value: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.username !== "" ||
    url.password !== "" ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    /[?#]/.test(value)
  ) {
    throw new TypeError(`${what}: publicOrigin must be an http(s) origin, e.g. "https://api.example.com"`);
  }
  return url.origin;
}

/**
 * The origin and path of an http(s) URL after WHATWG normalisation (query and fragment dropped), with
 * its origin replaced by `origin` when given; `undefined` for anything else. `strict` refuses userinfo.
 */
function targetOf(value: string, origin: string | undefined, strict = false): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (strict && (url.username !== "" || url.password !== "")) return undefined;
  return (origin ?? url.origin) + url.pathname;
}

/** base64url(SHA-256(ASCII token)), or `undefined` for a token that is not ASCII (then no `ath` matches). */
function athOf(token: string): string | undefined {
  if (typeof token !== "string" || !ascii.test(token)) return undefined;
  const digest = sha256Latin1(token);
  const bytes = new Uint8Array(digest.length);
  for (let i = 0; i < digest.length; i++) bytes[i] = digest.charCodeAt(i);
  return base64url.encode(bytes);
}

/** A JSON object that may be a public key for `alg`: an asymmetric kty, no private member, its `use` and `alg` fitting. */
function isPublicJwk(jwk: unknown, alg: string): jwk is Record<string, unknown> {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return false;
  const k = jwk as Record<string, unknown>;
  if (!publicKeyTypes.has(k["kty"]) || privateMembers.some((m) => Object.hasOwn(k, m))) return false;
  return (k["use"] === undefined || k["use"] === "sig") && (k["alg"] === undefined || k["alg"] === alg);
}

function isPublicKey(key: CryptoKey | Uint8Array): key is CryptoKey {
  if (key instanceof Uint8Array || key.type !== "public") return false;
  const { modulusLength } = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
  return modulusLength === undefined || modulusLength >= 2048; // as jose requires of RSA keys when verifying
}

function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}

// jose's errors of verifyJwt, by their code (they carry the payload: read for the code and claim only).
function detailOfJoseError(error: unknown): DpopProofDetail {
  const code: JoseErrorCode | undefined = joseCodeOf(error);
  switch (code) {
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "alg";
    case "ERR_JWT_EXPIRED":
      return "iat";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (error as { claim?: unknown }).claim;
      if (claim === "typ") return "typ";
      return claim === "iat" || claim === "exp" || claim === "nbf" ? "iat" : "format";
    }
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return "format";
    default:
      return "signature"; // not verified, for a reason jose names no code for
  }
}
