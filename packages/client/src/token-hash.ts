/**
 * A short, non-reversible name for a token: the first 8 hex characters of its SHA-256, for logs and
 * events that must tell tokens apart without ever holding one. Uses WebCrypto (`crypto.subtle`), present
 * in Node 20+ and in browsers on secure contexts (https and loopback).
 *
 * ```ts
 * await tokenHash("eyJhbGciOi…"); // e.g. "3f9a0c1d"
 * ```
 */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest, 0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
}
