// Longer than most files: the revocation kinds (their checks, their normal form, their end) are shared by
// the memory list here and the Redis list of @connectauth/node, which must read and write them alike.
import { base64url } from "jose";
import { nonNegative } from "./option-checks.js";
import { sha256Latin1 } from "./sha256.js";

/** What a token is checked by: all from the verified token. */
export interface RevocationSubject {
  readonly issuer: string;
  readonly jti?: string;
  /** base64url SHA-256 of the token's signing input `header.payload` (never of the signature, which has several valid spellings): {@link revocationDigest}. */
  readonly digest: string;
  readonly subject?: string;
  readonly clientId?: string;
  /** The token's iat in seconds; a token without one counts as issued at -Infinity (covered by every "before"). */
  readonly issuedAt?: number;
}

/**
 * One revocation. Times are in seconds since the epoch, as in JWT claims.
 * - by `jti`: one token (`expiresAt`: its `exp`; kept `maxTokenLifetimeSeconds` when absent);
 * - by `digest`: one token without a `jti` ({@link revocationDigest} of it);
 * - by `subject`: every token of that `sub` with an `iat` below `before`;
 * - by `clientId`: every token of that `client_id` with an `iat` below `before`.
 */
export type Revocation =
  | { readonly issuer: string; readonly jti: string; readonly expiresAt?: number }
  | { readonly issuer: string; readonly digest: string; readonly expiresAt?: number }
  | { readonly issuer: string; readonly subject: string; readonly before: number }
  | { readonly issuer: string; readonly clientId: string; readonly before: number };

/** What {@link RevocationList.status} says. */
export interface RevocationListStatus {
  /** Whether the list is caught up: its answers are the fleet's. */
  readonly ready: boolean;
  /** Since when (ms since the epoch, by the list's clock) the list has not been known to be caught up, while it is not. */
  readonly staleSinceMs?: number;
  /** Why, as a fixed word (never a message of the store: those may name hosts or credentials). */
  readonly lastError?: string;
}

/** The revoked tokens, as every instance of a service sees them. */
export interface RevocationList {
  /** Local and synchronous (no network per call): "revoked", "clear", or "unavailable" (the list cannot be trusted: too stale and failing closed). */
  check(token: RevocationSubject): "revoked" | "clear" | "unavailable";
  /** Records a revocation; resolves once it is stored where every instance will see it (for Redis: acknowledged by Redis). */
  revoke(revocation: Revocation): Promise<void>;
  /** What is revoked now (for `connectauth revoke --list`). */
  list(): Promise<readonly Revocation[]>;
  /** Whether the list is caught up (for health/readiness), and since when it is stale, if it is. */
  status(): RevocationListStatus;
  close?(): Promise<void>;
}

/** Options of {@link createMemoryRevocationList}. */
export interface MemoryRevocationListOptions {
  /** The current time in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * The longest a token of these issuers lives, in seconds: how long a revocation by `jti` or `digest`
   * without `expiresAt` is kept, and how long past its `before` a revocation by `subject` or `clientId`
   * is kept (a token issued before then has expired since). Default 86400.
   */
  readonly maxTokenLifetimeSeconds?: number;
  /**
   * How much longer than that every entry is kept, in seconds: at least the authenticator's
   * `clockToleranceSeconds`, which accepts a token that long past its `exp`. Default 60.
   */
  readonly clockToleranceSeconds?: number;
}

/** @internal The field a revocation is keyed by. */
export type RevocationKind = "jti" | "digest" | "subject" | "clientId";

// A revocation as stored: its kind, the value of that field, and the time it covers (expiresAt or before, s).
interface Entry {
  readonly kind: RevocationKind;
  readonly issuer: string;
  readonly value: string;
  readonly at: number;
}

// The entries of one issuer, by kind: value → expiresAt (jti, digest) or the latest before (subject, clientId).
type IssuerTables = Record<RevocationKind, Map<string, number>>;

// An entry in the expiry heap, with when it may be dropped (ms).
interface Expiry extends Entry {
  readonly dropAt: number;
}

const kinds: readonly RevocationKind[] = ["jti", "digest", "subject", "clientId"];

/**
 * Creates a revocation list held in this process: for one instance, for tests, and as the local mirror
 * of a shared list (`@connectauth/node/redis`). Every `check` is at most four `Map` reads (by issuer,
 * then `jti`, `digest`, `subject` and `clientId`); entries are dropped once the tokens they cover have
 * expired (a `jti` or `digest` at `expiresAt`, a `subject` or `clientId` at `before` plus
 * `maxTokenLifetimeSeconds`, each plus `clockToleranceSeconds`), so the list holds only what can still
 * be presented.
 *
 * ```ts
 * const revocations = createMemoryRevocationList();
 * await revocations.revoke({ issuer: "https://issuer.example.com/", jti: "4f1g", expiresAt: 1767225600 });
 * await revocations.revoke({ issuer: "https://issuer.example.com/", subject: "alice", before: Date.now() / 1000 });
 * revocations.check({ issuer: "https://issuer.example.com/", jti: "4f1g", digest: revocationDigest(token) }); // "revoked"
 * ```
 *
 * Not checked: that the subject passed to `check` comes from a verified token, or that `expiresAt` is
 * the token's `exp` (an earlier one makes the token valid again once it has passed). Never "unavailable":
 * it is always caught up with itself, and it is not shared between processes.
 *
 * @throws TypeError on a `maxTokenLifetimeSeconds` or `clockToleranceSeconds` that is not a finite number >= 0.
 */
export function createMemoryRevocationList(options: MemoryRevocationListOptions = {}): RevocationList {
  const what = "createMemoryRevocationList";
  const now = options.now ?? Date.now;
  const maxLifetime = nonNegative(options.maxTokenLifetimeSeconds, 86400, "maxTokenLifetimeSeconds", what);
  const tolerance = nonNegative(options.clockToleranceSeconds, 60, "clockToleranceSeconds", what);
  const byIssuer = new Map<string, IssuerTables>();
  const heap: Expiry[] = [];
  const prune = (t: number) => {
    while (heap.length > 0 && heap[0].dropAt <= t) {
      const entry = popMin(heap);
      const tables = byIssuer.get(entry.issuer);
      const table = tables?.[entry.kind];
      // A later revocation of the same value that covers more replaced this entry and has its own expiry.
      if (table?.get(entry.value) === entry.at) table.delete(entry.value);
      if (tables !== undefined && kinds.every((kind) => tables[kind].size === 0)) byIssuer.delete(entry.issuer);
    }
  };
  const add = (entry: Entry) => {
    const dropAt = entryEndMs(entry, maxLifetime, tolerance);
    if (!(dropAt > now())) return;
    let tables = byIssuer.get(entry.issuer);
    if (tables === undefined) {
      tables = { jti: new Map(), digest: new Map(), subject: new Map(), clientId: new Map() };
      byIssuer.set(entry.issuer, tables);
    }
    const table = tables[entry.kind];
    const held = table.get(entry.value);
    if (held !== undefined && held >= entry.at) return;
    table.set(entry.value, entry.at);
    pushHeap(heap, { kind: entry.kind, issuer: entry.issuer, value: entry.value, at: entry.at, dropAt });
  };
  return {
    check(token) {
      if (heap.length > 0 && heap[0].dropAt <= now()) prune(now());
      const tables = byIssuer.get(token.issuer);
      if (tables === undefined) return "clear";
      if (token.jti !== undefined && tables.jti.has(token.jti)) return "revoked";
      if (tables.digest.has(token.digest)) return "revoked";
      // `!(iat >= before)`: a token without an iat (undefined), or with one that is not a number, is covered.
      const iat = token.issuedAt as number;
      if (token.subject !== undefined) {
        const before = tables.subject.get(token.subject);
        if (before !== undefined && !(iat >= before)) return "revoked";
      }
      if (token.clientId !== undefined) {
        const before = tables.clientId.get(token.clientId);
        if (before !== undefined && !(iat >= before)) return "revoked";
      }
      return "clear";
    },
    async revoke(revocation) {
      add(toEntry(normalizeRevocation(revocation, now(), maxLifetime)));
    },
    async list() {
      prune(now());
      const out: Revocation[] = [];
      for (const [issuer, tables] of byIssuer) {
        for (const kind of kinds) {
          for (const [value, at] of tables[kind]) out.push(fromEntry({ kind, issuer, value, at }));
        }
      }
      return out;
    },
    status() {
      return { ready: true };
    },
  };
}

/**
 * The digest a token is revoked by when it has no `jti`: base64url SHA-256 of its signing input
 * `header.payload`. The signature is left out on purpose: an ECDSA or RSA-PSS token has several valid
 * signatures over the same input, and a revoked token must stay revoked under each of them.
 *
 * ```ts
 * await revocations.revoke({ issuer, digest: revocationDigest(token), expiresAt: payload.exp });
 * revocations.check({ issuer, digest: revocationDigest(token), subject: payload.sub, issuedAt: payload.iat });
 * ```
 *
 * Not checked: the signature, or anything in the token; only its shape (three parts, ASCII).
 *
 * @throws TypeError on a string that is not a JWS in compact form (three dot-separated ASCII parts).
 */
export function revocationDigest(token: string): string {
  const first = typeof token === "string" ? token.indexOf(".") : -1;
  const dot = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (dot < 0 || token.indexOf(".", dot + 1) >= 0 || !ascii.test(token)) {
    throw new TypeError("revocationDigest: not a JWS in compact form");
  }
  const hash = sha256Latin1(token.slice(0, dot));
  const bytes = new Uint8Array(hash.length);
  for (let i = 0; i < hash.length; i++) bytes[i] = hash.charCodeAt(i);
  return base64url.encode(bytes);
}

const ascii = /^[\x00-\x7f]*$/;

/**
 * @internal The kind of a revocation, checked: one non-empty `issuer`, exactly one of `jti`, `digest`,
 * `subject` and `clientId` (a non-empty string), a finite `before` with `subject` and `clientId`, a
 * finite `expiresAt` if any. Returns a copy with `expiresAt` filled in (`nowMs` plus
 * `maxLifetimeSeconds`) and nothing else, in a fixed key order (so its JSON is the same on every instance).
 *
 * ```ts
 * normalizeRevocation({ issuer, jti: "a" }, Date.now(), 86400); // { issuer, jti: "a", expiresAt: … }
 * ```
 *
 * Not checked: that the times are sensible (a `before` in the future also covers tokens issued until then).
 *
 * @throws TypeError naming the field at fault (never its value).
 */
export function normalizeRevocation(revocation: Revocation, nowMs: number, maxLifetimeSeconds: number): Revocation {
  const r = revocation as Partial<Record<RevocationKind | "issuer", unknown>> & { expiresAt?: unknown; before?: unknown };
  if (typeof r !== "object" || r === null) throw new TypeError("revocation: not an object");
  if (typeof r.issuer !== "string" || r.issuer === "") throw new TypeError("revocation: issuer must be a non-empty string");
  const present = kinds.filter((kind) => r[kind] !== undefined);
  if (present.length !== 1) throw new TypeError("revocation: give exactly one of jti, digest, subject and clientId");
  const kind = present[0];
  const value = r[kind];
  if (typeof value !== "string" || value === "") throw new TypeError(`revocation: ${kind} must be a non-empty string`);
  if (kind === "jti" || kind === "digest") {
    if (r.before !== undefined) throw new TypeError(`revocation: before goes with subject or clientId, not ${kind}`);
    const expiresAt = r.expiresAt ?? nowMs / 1000 + maxLifetimeSeconds;
    if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) {
      throw new TypeError("revocation: expiresAt must be a finite number (seconds)");
    }
    return fromEntry({ kind, issuer: r.issuer, value, at: expiresAt });
  }
  if (r.expiresAt !== undefined) throw new TypeError(`revocation: expiresAt goes with jti or digest, not ${kind}`);
  if (typeof r.before !== "number" || !Number.isFinite(r.before)) {
    throw new TypeError("revocation: before must be a finite number (seconds)");
  }
  return fromEntry({ kind, issuer: r.issuer, value, at: r.before });
}

/**
 * @internal When a revocation may be forgotten, in ms since the epoch: once every token it covers has
 * expired, plus the clock tolerance. `revocation` is one {@link normalizeRevocation} returned.
 *
 * ```ts
 * revocationEndMs(normalizeRevocation(r, Date.now(), 86400), 86400, 60);
 * ```
 *
 * Not checked: the revocation (normalize it first).
 */
export function revocationEndMs(revocation: Revocation, maxLifetimeSeconds: number, toleranceSeconds: number): number {
  return entryEndMs(toEntry(revocation), maxLifetimeSeconds, toleranceSeconds);
}

function entryEndMs({ kind, at }: Entry, maxLifetimeSeconds: number, toleranceSeconds: number): number {
  const end = kind === "jti" || kind === "digest" ? at : at + maxLifetimeSeconds;
  return (end + toleranceSeconds) * 1000;
}

function toEntry(r: Revocation): Entry {
  if ("jti" in r) return { kind: "jti", issuer: r.issuer, value: r.jti, at: r.expiresAt as number };
  if ("digest" in r) return { kind: "digest", issuer: r.issuer, value: r.digest, at: r.expiresAt as number };
  if ("subject" in r) return { kind: "subject", issuer: r.issuer, value: r.subject, at: r.before };
  return { kind: "clientId", issuer: r.issuer, value: r.clientId, at: r.before };
}

function fromEntry({ kind, issuer, value, at }: Entry): Revocation {
  switch (kind) {
    case "jti":
      return { issuer, jti: value, expiresAt: at };
    case "digest":
      return { issuer, digest: value, expiresAt: at };
    case "subject":
      return { issuer, subject: value, before: at };
    case "clientId":
      return { issuer, clientId: value, before: at };
  }
}

// A binary min-heap of expiries by dropAt: the next entry to drop is read in O(1), each push and pop is O(log n).
function pushHeap(heap: Expiry[], item: Expiry): void {
  let i = heap.push(item) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent].dropAt <= item.dropAt) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = item;
}

function popMin(heap: Expiry[]): Expiry {
  const top = heap[0];
  const last = heap.pop() as Expiry;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right].dropAt < heap[left].dropAt ? right : left;
    if (heap[child].dropAt >= last.dropAt) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = last;
  return top;
}
