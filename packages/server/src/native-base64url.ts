// jose's base64url decoding of JWS segments, done by Node's Buffer where the runtime has it: on Node 20
// jose decodes through `atob`, two `replace`s and a new array, about 0.8 µs for a signature and 1.9 µs
// for a DPoP proof's payload, against 0.5 and 0.8 µs for this reader (Buffer writing into memory it
// reuses). The native JWS path (native-signature.ts, native-jws.ts) reads segments with it; jose
// decides every segment that Buffer would not decode exactly as it does.
import { base64url } from "jose";
import { nodeBuiltinOf } from "./node-crypto.js";

/**
 * @internal Decodes one base64url segment exactly as jose's `base64url.decode` does and hands the bytes
 * to `read`, whose result it returns; `undefined` (and `read` not called) for a segment jose refuses.
 * The bytes are valid only while `read` runs: they may be memory that is wiped and used again after it
 * returns, so `read` must be synchronous and must not keep them.
 *
 * ```ts
 * const claims = readBase64url(payloadSegment, (bytes) => JSON.parse(strictDecoder.decode(bytes)));
 * ```
 */
export type Base64urlReader = <T>(segment: string, read: (bytes: Uint8Array) => T) => T | undefined;

/** The part of Node's `Buffer` the reader uses (typed here: this isomorphic package has no Node types). */
interface NativeBuffer {
  allocUnsafeSlow(size: number): NativeBytes;
}
interface NativeBytes extends Uint8Array {
  write(text: string, offset: number, encoding: "base64url"): number;
  subarray(start: number, end: number): NativeBytes;
}

// Buffer and jose agree on exactly these: the base64url alphabet alone (no padding, no whitespace, no
// `+` or `/`, which jose refuses and Buffer takes), and a length that is not 1 more than a multiple of
// 4 (no whole byte: jose refuses it, Buffer drops the last character). Both drop a last character's
// unused bits, as forgiving-base64 (atob) and `Uint8Array.fromBase64` do.
const alphabetOnly = /^[A-Za-z0-9_-]*$/;
// Segments up to this size are read from one reused buffer; larger ones, rare, are jose's.
const maxScratchLength = 65536;

function isNativeBuffer(value: unknown): value is NativeBuffer {
  return typeof (value as Partial<NativeBuffer> | null | undefined)?.allocUnsafeSlow === "function";
}

/** jose's decode of `segment` handed to `read`; `undefined` where jose refuses it. */
function readByJose<T>(segment: string, read: (bytes: Uint8Array) => T): T | undefined {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(segment);
  } catch {
    return undefined;
  }
  return read(bytes);
}

/**
 * @internal The reader of base64url segments for this runtime: Node's `Buffer` (found in `scope` as
 * {@link nodeBuiltinOf} finds `node:buffer`) decodes the segments on which it and jose agree into one
 * reused buffer, which is wiped (zeroed) as soon as `read` returns or throws; jose's `base64url.decode`
 * decodes every other segment, a segment read while another is being read, and every segment where
 * there is no Node.
 *
 * So no allocation is made per segment on Node, and a token's signature bytes do not outlive the check
 * that read them.
 *
 * ```ts
 * const readBase64url = base64urlReaderOf(globalThis);
 * readBase64url("AQAB", (bytes) => [...bytes]); // [1, 0, 1], by Buffer on Node
 * readBase64url("AQAB=", (bytes) => [...bytes]); // by jose (padding): the same bytes
 * readBase64url("A", (bytes) => [...bytes]); // undefined: jose refuses it
 * ```
 *
 * Not checked: nothing beyond what jose checks; the bytes mean nothing to this function.
 */
export function base64urlReaderOf(scope: unknown): Base64urlReader {
  const buffer = (nodeBuiltinOf(scope, "node:buffer") as { Buffer?: unknown } | undefined)?.Buffer;
  if (!isNativeBuffer(buffer)) return readByJose;
  let scratch: NativeBytes | undefined;
  let reading = false;
  return <T>(segment: string, read: (bytes: Uint8Array) => T): T | undefined => {
    if (
      reading ||
      typeof segment !== "string" ||
      segment.length > maxScratchLength ||
      segment.length % 4 === 1 ||
      !alphabetOnly.test(segment)
    ) {
      return readByJose(segment, read);
    }
    const length = (segment.length * 3) >>> 2; // floor(6n / 8): every character is in the alphabet
    if (scratch === undefined || scratch.length < length) scratch = buffer.allocUnsafeSlow(Math.max(length, 512));
    if (scratch.write(segment, 0, "base64url") !== length) {
      scratch.fill(0, 0, length);
      return readByJose(segment, read);
    }
    reading = true;
    try {
      return read(scratch.subarray(0, length));
    } finally {
      scratch.fill(0, 0, length);
      reading = false;
    }
  };
}
