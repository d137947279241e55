import { dpopNonceHeader } from "@connectauth/core";

/** The nonces servers gave for DPoP proofs (RFC 9449 §8), one per origin, the latest winning. */
export interface DpopNonces {
  /** The nonce to put in a proof for a request to `url`, if its origin gave one. */
  get(url: URL): string | undefined;
  /** Keeps the `DPoP-Nonce` of a response from `url`; a missing or malformed one is ignored. */
  remember(url: URL, header: Headers): void;
}

/**
 * Creates the nonce store of a prover: the latest valid `DPoP-Nonce` (1*NQCHAR) per origin, for at most
 * `limit` origins (the least recently used is forgotten first), so that a client of many hosts does not
 * grow without bound.
 *
 * ```ts
 * const nonces = createDpopNonces();
 * nonces.remember(new URL("https://api.example.com/x"), response.headers);
 * nonces.get(new URL("https://api.example.com/y")); // the same origin's nonce
 * ```
 *
 * Not checked: whether the server still accepts a nonce (it answers `use_dpop_nonce` with a new one).
 */
export function createDpopNonces(limit = 100): DpopNonces {
  const byOrigin = new Map<string, string>();
  return {
    get(url) {
      const nonce = byOrigin.get(url.origin);
      if (nonce !== undefined) {
        byOrigin.delete(url.origin); // most recently used last
        byOrigin.set(url.origin, nonce);
      }
      return nonce;
    },
    remember(url, header) {
      const nonce = header.get(dpopNonceHeader);
      if (!isDpopNonce(nonce)) return;
      byOrigin.delete(url.origin);
      for (const oldest of byOrigin.keys()) {
        if (byOrigin.size < limit) break;
        byOrigin.delete(oldest);
      }
      byOrigin.set(url.origin, nonce);
    },
  };
}

/**
 * Whether a value is a DPoP nonce by RFC 9449 §8.1: one or more NQCHAR (visible ASCII but `"` and `\`).
 * Anything else never goes into a proof.
 *
 * ```ts
 * isDpopNonce("eyJ7S_zG.eyJH0-Z"); // true
 * isDpopNonce('a "quoted" one');   // false
 * ```
 */
export function isDpopNonce(value: string | null | undefined): value is string {
  return typeof value === "string" && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value);
}
