import { decodeProtectedHeader } from "jose";

const maxEntries = 64;
const maxSegmentLength = 1024;
// Headers decoded before whose members are all JSON primitives, by their segment: a shallow copy of one
// is the very object jose's decode of that segment returns (same members, order and prototype).
const decoded = new Map<string, Readonly<Record<string, unknown>>>();

const isFlat = (header: Record<string, unknown>) => Object.values(header).every((v) => v === null || typeof v !== "object");

/**
 * @internal The protected header of a compact JWS from its base64url segment (the text before the first
 * dot), as jose's `decodeProtectedHeader` decodes it (strict base64url, UTF-8, a JSON object), a new
 * object on every call. A header of primitive members only (`alg`, `kid`, `typ`: every token of one
 * issuer's key has the same) is decoded once and copied after: the last 64 such segments of up to
 * 1 KiB are kept, so the precheck and the verification of a token decode its header at most once
 * between them, and most often not at all.
 *
 * ```ts
 * const header = protectedHeaderOf(token.slice(0, token.indexOf("."))); // { alg: "ES256", kid: "k1" }
 * ```
 *
 * Not checked: anything the header says (the caller checks it), nor the rest of the token.
 *
 * @throws TypeError (jose's) on a segment that is empty, not base64url, or not of a JSON object.
 */
export function protectedHeaderOf(segment: string): Record<string, unknown> {
  const known = decoded.get(segment);
  if (known !== undefined) return { ...known };
  const header = decodeProtectedHeader({ protected: segment }) as Record<string, unknown>;
  if (segment.length <= maxSegmentLength && isFlat(header)) {
    if (decoded.size >= maxEntries) decoded.delete(decoded.keys().next().value as string);
    decoded.set(segment, { ...header });
  }
  return header;
}
