import { base64url } from "jose";
import { integerAtLeast } from "./option-checks.js";

/** Options of {@link createDpopNonces}. */
export interface DpopNonceOptions {
  /** Shared by every server of a fleet; at least 32 bytes (a string is UTF-8 encoded). */
  readonly secret: string | Uint8Array;
  /** How long a nonce is current, in seconds. Default 300. The previous nonce stays valid one more period (grace). */
  readonly rotationSeconds?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** The server's DPoP nonces (RFC 9449 §8), from {@link createDpopNonces}. */
export interface DpopNonces {
  /** The current nonce (base64url, no padding), the same on every server with the same secret in the same period. */
  current(): Promise<string>;
  /** Whether `nonce` is the current or the previous period's nonce. */
  check(nonce: string): Promise<boolean>;
}

const what = "createDpopNonces";
const label = "connectauth-dpop-nonce:";

/**
 * Creates the server-provided DPoP nonces of RFC 9449 §8, stateless across a fleet: the nonce of a
 * period is base64url(HMAC-SHA256(secret, "connectauth-dpop-nonce:" + periodIndex)), where the period
 * index counts `rotationSeconds` since the epoch. Every server with the same secret issues and accepts
 * the same nonces, with no shared store; a nonce is accepted in its own period and the next one.
 *
 * WebCrypto (`crypto.subtle`) computes the HMAC; the key is imported once, and each period's nonce is
 * computed once and kept (two periods at a time), so steady calls cost no HMAC. Nonces are compared
 * without an early exit.
 *
 * ```ts
 * const nonces = createDpopNonces({ secret: process.env.DPOP_NONCE_SECRET!, rotationSeconds: 300 });
 * response.headers.set("DPoP-Nonce", await nonces.current());
 * await nonces.check(proofPayload.nonce); // true in this period and the next
 * ```
 *
 * Not checked: that the secret is random (use 32 random bytes), nor which client a nonce was given to
 * (a nonce proves freshness, not identity).
 *
 * @throws TypeError on a secret shorter than 32 bytes, a `rotationSeconds` that is not an integer >= 1,
 * a `now` that is not a function, or a runtime without `crypto.subtle`.
 */
export function createDpopNonces(options: DpopNonceOptions): DpopNonces {
  const { secret } = options ?? {};
  const bytes =
    typeof secret === "string" ? new TextEncoder().encode(secret) : secret instanceof Uint8Array ? secret.slice() : undefined;
  if (bytes === undefined || bytes.length < 32) {
    throw new TypeError(`${what}: secret must be a string or Uint8Array of at least 32 bytes`);
  }
  const periodMs = integerAtLeast(1, options.rotationSeconds, 300, "rotationSeconds", what) * 1000;
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError(`${what}: now must be a function`);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new TypeError(`${what}: this runtime has no crypto.subtle (WebCrypto)`);

  let key: Promise<CryptoKey> | undefined;
  const nonces = new Map<number, Promise<string>>(); // period index → nonce: the current and previous periods

  const compute = async (period: number): Promise<string> => {
    key ??= subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await subtle.sign("HMAC", await key, new TextEncoder().encode(label + period));
    return base64url.encode(new Uint8Array(mac));
  };
  const nonceOf = (period: number): Promise<string> => {
    let nonce = nonces.get(period);
    if (nonce === undefined) {
      for (const p of nonces.keys()) if (p < period - 1) nonces.delete(p);
      nonce = compute(period);
      nonce.catch(() => nonces.get(period) === nonce && nonces.delete(period)); // computed again next time
      nonces.set(period, nonce);
    }
    return nonce;
  };
  const period = () => Math.floor(now() / periodMs);

  return {
    current: () => nonceOf(period()),
    async check(nonce) {
      if (typeof nonce !== "string") return false;
      const p = period();
      const [current, previous] = await Promise.all([nonceOf(p), nonceOf(p - 1)]);
      return (sameText(nonce, current) | sameText(nonce, previous)) === 1;
    },
  };
}

/** 1 when `value` equals `expected`, else 0; reads every character of `expected`, with no early exit. */
function sameText(value: string, expected: string): number {
  let diff = value.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= value.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0 ? 1 : 0;
}
