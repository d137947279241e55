// Longer than most files: every check of RFC 9449 §4.3 on a proof, in the order the RFC gives them, with
// its refusal's detail and message; the key, the htu, the nonces and the replay store are modules of their own.
import { base64url } from "jose";
import { Reason } from "@connectauth/core";
import type { DpopNonces } from "./dpop-nonce.js";
import { createHtuCheck, publicOriginOf } from "./dpop-htu.js";
import { type ProofKey, createProofKeys } from "./dpop-proof-key.js";
import { type JoseErrorCode, joseCodeOf } from "./jose-errors.js";
import { verifyJwsPayload } from "./native-jws.js";
import { integerAtLeast, nonNegative } from "./option-checks.js";
import { type ReplayStore, createMemoryReplayStore, immediateAddOf } from "./replay-store.js";
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
  /**
   * The access token presented with the proof, for `ath`. Absent for a proof that comes with no access
   * token (a token request, RFC 9449 §5): then the proof must carry no `ath`.
   */
  readonly accessToken?: string;
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
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// The same after a header segment that matched it before: from the first dot on (sticky: at lastIndex).
const afterHeader = /\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/y;
const ascii = /^[\x00-\x7f]*$/;
const maxJtiLength = 256;
const maxCachedKeys = 1000;
const maxCachedTargets = 256;

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

/**
 * Creates the server's check of DPoP proofs (RFC 9449 §4.3) for calls with a DPoP-bound access token:
 * the proof is a compact JWS with `typ` `dpop+jwt`, an accepted asymmetric `alg`, and a public `jwk`
 * in its header that verifies its signature (through `verifyJwsPayload`, jose's where not native); its `jti`, `htm`, `htu`, `iat` and
 * `ath` match the call and the token; with `nonces`, it carries a current nonce (§8); and its `jti` is
 * new for this scope and key in the replay store (§11.1), which only a proof that passed every other
 * check reaches. A refusal is a value with a fixed `detail` word; its message names no proof, token or
 * key text.
 *
 * A proof's key is kept once its header has passed every check, in a bounded map (1,000 keys) keyed by
 * the header's base64url segment, which every proof of one client key repeats (`dpop-proof-key.ts`): a
 * client's steady proofs cost a map look-up, the signature check and the payload's decode, with no
 * header decode, key import or thumbprint after the first, and no second scan of the header's characters
 * (only the payload's and signature's are scanned again). The `ath` of the last access token seen with
 * a key is kept beside it, and the normalised `htu` of the last 256 request URLs and proof `htu`s.
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
  const publicOrigin = options.publicOrigin === undefined ? undefined : publicOriginOf(options.publicOrigin, what);
  const keys = createProofKeys(allowed, maxCachedKeys);
  const htuMatches = createHtuCheck(publicOrigin, maxCachedTargets);

  // A store that may hang (any but a memory store's), its wait bounded by replayTimeoutMs.
  const recordTimed = async (key: string, expiresAtMs: number): Promise<boolean | undefined> => {
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
      if (typeof proof !== "string" || proof.length > maxProofLength) return refuse("format");
      const dot = proof.indexOf(".");
      const segment = proof.slice(0, Math.max(dot, 0));
      const known = keys.get(segment);
      // A known key's segment passed the whole check when it was loaded: only the rest is scanned again.
      if (!(known === undefined ? compactJws.test(proof) : restIsCompact(proof, dot))) return refuse("format");
      const found = known ?? (await keys.load(segment));
      if (typeof found === "string") return refuse(found);
      let payload: Record<string, unknown>;
      try {
        payload = await verifyJwsPayload(proof, found.alg, found.key);
      } catch (error) {
        return refuse(detailOfJoseError(error));
      }
      if (!timesFit(payload, Math.floor(t / 1000), tolerance)) return refuse("iat");
      const { jti, iat } = payload;
      if (typeof jti !== "string" || jti === "" || jti.length > maxJtiLength) return refuse("jti");
      const htm = payload["htm"];
      if (typeof htm !== "string" || htm !== input.httpMethod) return refuse("htm");
      if (!htuMatches(payload["htu"], input.url)) return refuse("htu");
      if (typeof iat !== "number" || !Number.isFinite(iat) || Math.abs(iat - t / 1000) > span) return refuse("iat");
      if (input.accessToken === undefined) {
        if (payload["ath"] !== undefined) return refuse("ath");
      } else {
        const ath = athWith(found, input.accessToken);
        if (ath === undefined || payload["ath"] !== ath) return refuse("ath");
      }
      if (nonces !== undefined) {
        const nonce = payload["nonce"];
        if (typeof nonce !== "string" || !(await nonces.check(nonce))) {
          return { ...refuse("nonce", Reason.UseDpopNonce), nonce: await nonces.current() };
        }
      }
      const replayKey = `${input.scope}\n${found.jkt}\n${jti}`;
      const immediate = immediateAddOf(store); // a memory store answers at once: no timer, no promise
      const added =
        immediate === undefined
          ? await recordTimed(replayKey, (iat + span) * 1000)
          : addedNow(immediate, replayKey, (iat + span) * 1000);
      if (added === undefined) return refuse("replay_store", Reason.ReplayStoreUnavailable);
      if (!added) return refuse("jti_replay");
      return { ok: true, jkt: found.jkt };
    },
  };
}

/** Whether `proof` from its first dot (at `dot`) on is what {@link compactJws} takes after a header segment. */
function restIsCompact(proof: string, dot: number): boolean {
  afterHeader.lastIndex = dot;
  return afterHeader.test(proof);
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

/** base64url(SHA-256(ASCII token)), or `undefined` for a token that is not ASCII (then no `ath` matches). */
function athOf(token: string): string | undefined {
  if (typeof token !== "string" || !ascii.test(token)) return undefined;
  const digest = sha256Latin1(token);
  const bytes = new Uint8Array(digest.length);
  for (let i = 0; i < digest.length; i++) bytes[i] = digest.charCodeAt(i);
  return base64url.encode(bytes);
}

/** {@link athOf}, kept beside the proof key for the last token seen with it (a client sends one token many times). */
function athWith(key: ProofKey, token: string): string | undefined {
  const last = key.lastAth;
  if (last !== undefined && last.token === token) return last.ath;
  const ath = athOf(token);
  if (typeof token === "string") key.lastAth = { token, ath };
  return ath;
}

/** A memory store's answer: its synchronous `add`'s, or `undefined` where it throws (full). */
function addedNow(add: (key: string, expiresAtMs: number) => boolean, key: string, expiresAtMs: number): boolean | undefined {
  try {
    return add(key, expiresAtMs);
  } catch {
    return undefined;
  }
}

/**
 * jose's checks of the time claims, as `jwtVerify` made them of a proof (`currentDate` now, the clock
 * tolerance): `iat`, `nbf` and `exp` are numbers when present, `nbf` is not after now, `exp` not before.
 */
function timesFit(payload: Record<string, unknown>, nowS: number, tolerance: number): boolean {
  const { iat, nbf, exp } = payload;
  if (iat !== undefined && typeof iat !== "number") return false;
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > nowS + tolerance)) return false;
  return exp === undefined || (typeof exp === "number" && exp > nowS - tolerance);
}

// jose's errors of verifyJwsPayload, by their code (read for the code and claim only).
function detailOfJoseError(error: unknown): DpopProofDetail {
  const code: JoseErrorCode | undefined = joseCodeOf(error);
  switch (code) {
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "alg";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return "format";
    default:
      return "signature"; // not verified, for a reason jose names no code for
  }
}
