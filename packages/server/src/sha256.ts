import { sha256 } from "@noble/hashes/sha2.js";

/**
 * SHA-256 of a string's UTF-8 bytes, as a 32-character string of the digest's bytes (one char per
 * byte, latin1). Lone surrogates are encoded as U+FFFD, as `TextEncoder` does: only well-formed
 * strings have a digest of their own.
 */
export type Sha256Latin1 = (text: string) => string;

type NodeCrypto = { hash?: (algorithm: string, data: string, outputEncoding: string) => string };
type WithBuiltins = { process?: { getBuiltinModule?: (id: string) => unknown } };

const utf8 = new TextEncoder();

/**
 * @internal SHA-256 with `@noble/hashes`, in any runtime.
 *
 * ```ts
 * nobleSha256("abc").length; // 32
 * ```
 */
export const nobleSha256: Sha256Latin1 = (text) => String.fromCharCode(...sha256(utf8.encode(text)));

/**
 * @internal The runtime's own one-shot SHA-256 (`crypto.hash` of Node ≥ 20.16, Deno and Bun), found at
 * run time through `process.getBuiltinModule` so that this isomorphic module imports nothing from
 * `node:*`; `undefined` where there is none (browsers, older Node).
 *
 * ```ts
 * nativeSha256?.("abc") === nobleSha256("abc"); // true
 * ```
 */
export const nativeSha256: Sha256Latin1 | undefined = (() => {
  try {
    const crypto = (globalThis as WithBuiltins).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
    const hash = crypto?.hash;
    return typeof hash === "function" ? (text) => hash("sha256", text, "latin1") : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * @internal The fastest SHA-256 this runtime has: {@link nativeSha256}, else {@link nobleSha256}.
 *
 * ```ts
 * const key = sha256Latin1(signature);
 * ```
 */
export const sha256Latin1: Sha256Latin1 = nativeSha256 ?? nobleSha256;
