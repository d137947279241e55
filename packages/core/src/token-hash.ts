/**
 * A short, non-reversible name for a credential: the first 8 hex digits of its SHA-256, enough to tell
 * tokens apart in logs and events, useless to replay one. The client's events, the server's decision
 * events and `connectauth token decode` all print this value. Uses WebCrypto (`crypto.subtle`), present
 * in Node 20+ and in browsers on secure contexts (https and loopback).
 *
 * ```ts
 * await tokenHash("eyJhbGciOi…"); // e.g. "3f9a0c1d"
 * ```
 */
export async function tokenHash(credential: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(credential));
  return new DataView(digest).getUint32(0).toString(16).padStart(8, "0");
}
