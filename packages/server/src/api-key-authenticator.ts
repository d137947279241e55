import { Reason } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, accepted, rejected } from "./authenticator.js";
import type { AuthIdentity } from "./identity.js";

/** One API key, as configured: never the key itself, only its SHA-256. */
export interface ApiKeyEntry {
  /** The SHA-256 of the key's UTF-8 bytes, 64 hex digits (`printf %s "$KEY" | sha256sum`, or {@link hashApiKey}). */
  readonly sha256: string;
  /** Who calls with this key: the identity's `subject`. */
  readonly subject: string;
  /** The scopes the key grants. Default none. */
  readonly scopes?: readonly string[];
  /** Extra claims for the identity (e.g. `{ tenant: "t1" }`). Default none. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Options of {@link createApiKeyAuthenticator}. */
export interface ApiKeyAuthenticatorOptions {
  /** The accepted keys, by hash. At least one; no hash twice. */
  readonly keys: readonly ApiKeyEntry[];
  /** The request header carrying the key. Default `"x-api-key"`; `null` to read no header. */
  readonly header?: string | null;
  /**
   * An `Authorization` scheme carrying the key (e.g. `"apikey"`, or `"bearer"` when no JWT
   * authenticator takes bearer tokens). Default none.
   */
  readonly scheme?: string;
  /** The largest key accepted, in characters. Default 512. */
  readonly maxKeyLength?: number;
  /** The authenticator's name. Default `"api-key"`. */
  readonly name?: string;
}

/**
 * The SHA-256 of an API key, as {@link ApiKeyEntry.sha256} wants it (lowercase hex).
 *
 * ```ts
 * await hashApiKey("k_live_…"); // "9f86d08…"
 * ```
 */
export async function hashApiKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Creates an authenticator of API keys, read from a named header (default `x-api-key`) or an
 * `Authorization` scheme. Keys are configured as SHA-256 hashes (the service never holds them); the
 * presented key is hashed with WebCrypto and compared with every configured hash without an early exit,
 * so the time taken does not tell which key, or how much of one, matched. An unknown key is
 * `INVALID_API_KEY` (no Bearer challenge).
 *
 * ```ts
 * const apiKeys = createApiKeyAuthenticator({
 *   keys: [{ sha256: "9f86d081884c7d65…", subject: "billing-job", scopes: ["greet"] }],
 * });
 * createServerAuth({ authenticators: [jwt, apiKeys] });
 * ```
 *
 * Not done: rate limiting of guesses, key expiry, rotation (configure both keys while rotating).
 *
 * @throws TypeError without keys, on a hash that is not 64 hex digits, a hash twice, or with neither
 * header nor scheme.
 */
export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): Authenticator {
  const what = "createApiKeyAuthenticator";
  if (!Array.isArray(options.keys) || options.keys.length === 0) {
    throw new TypeError(`${what}: at least one key is required`);
  }
  const name = options.name ?? "api-key";
  const header = options.header === undefined ? "x-api-key" : options.header;
  const scheme = options.scheme?.toLowerCase();
  if (header === null && scheme === undefined) {
    throw new TypeError(`${what}: give a header or a scheme to read keys from`);
  }
  const maxKeyLength = options.maxKeyLength ?? 512;
  const seen = new Set<string>();
  const entries = options.keys.map((k) => {
    if (typeof k.sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(k.sha256)) {
      throw new TypeError(`${what}: each key's sha256 must be 64 hex digits (the hash, not the key)`);
    }
    const hex = k.sha256.toLowerCase();
    if (seen.has(hex)) throw new TypeError(`${what}: a key hash is configured twice`);
    seen.add(hex);
    if (typeof k.subject !== "string" || k.subject === "") {
      throw new TypeError(`${what}: each key needs a subject`);
    }
    const hash = new Uint8Array(32);
    for (let i = 0; i < 32; i++) hash[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    const identity: AuthIdentity = {
      subject: k.subject,
      scopes: new Set(k.scopes ?? []),
      claims: { ...k.claims },
      authenticator: name,
    };
    return { hash, outcome: accepted(identity) };
  });
  const invalid = rejected(Reason.InvalidApiKey, { message: "the API key is not valid", detail: "unknown_key" });

  return {
    name,
    schemes: scheme === undefined ? [] : [scheme],
    headers: header === null ? [] : [header.toLowerCase()],
    async authenticate({ value }): Promise<AuthOutcome> {
      if (value.length === 0 || value.length > maxKeyLength) return invalid;
      const presented = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
      let match: AuthOutcome | undefined;
      for (const entry of entries) {
        let diff = 0;
        for (let i = 0; i < 32; i++) diff |= entry.hash[i] ^ presented[i];
        if (diff === 0) match = entry.outcome;
      }
      return match ?? invalid;
    },
  };
}
