import { readFile } from "node:fs/promises";
import { decodeJwt } from "jose";
import type { RedisRevocationList } from "@connectauth/node/redis";
import { type Revocation, revocationDigest } from "@connectauth/server";
import { normalizeRevocation, revocationEndMs } from "@connectauth/server/protocol";
import { defineCommand } from "../command-line.js";
import type { CommandIo } from "../command.js";
import { stableJson } from "../json.js";
import { flag, wholeNumberOf } from "../option-values.js";

const defaultPrefix = "connectauth:revocations:";
const defaultTimeoutMs = 5000;
// The lists' default maxTokenLifetimeSeconds: how long a jti is kept without --expires.
const defaultLifetimeSeconds = 86400;
const defaultToleranceSeconds = 60;

const help = `usage: connectauth revoke --redis URL --issuer I (--jti J | --subject S | --client C | --token-file F) [--before T] [--expires T]
       connectauth revoke --redis URL --list [--json]

Revokes tokens for every server whose revocation list (createRedisRevocationList of
@connectauth/node/redis) reads this Redis, and exits 0 only once Redis has stored the revocation.
Servers refuse a revoked token as INVALID_TOKEN (detail "revoked") as soon as they receive it
(within a second on a healthy fleet).

  --jti J          the token whose jti is J
  --subject S      every token of the subject S (sub) issued before T
  --client C       every token of the client C (client_id) issued before T
  --token-file F   the token in the file F (read, not verified): by its jti, or without one by the
                   digest of its signing input; until its exp; its iss unless --issuer is given

With --list, prints what is revoked now (after catching up with Redis).

options:
  --redis URL      redis:// or rediss:// (with user and password if needed); default $CONNECTAUTH_REDIS_URL
  --issuer I       the issuer (iss) whose tokens are revoked; required but with --token-file
  --before T       with --subject and --client: tokens with an iat earlier than T; default now
  --expires T      with --jti: when the revocation may be forgotten (the token's exp); default in one
                   day, the longest servers accept a token by default
  --prefix P       the lists' keyPrefix; default ${defaultPrefix}
  --timeout MS     how long to wait for Redis, in ms; default ${defaultTimeoutMs}
  --list           print the revocations instead
  --json           with --list: { "revocations": [...] }; otherwise { "revoked": {...} }
  -h, --help       this help

T is an RFC 3339 time (2026-01-01T12:00:00Z) or seconds since the epoch.

examples:
  connectauth revoke --redis redis://redis.internal:6379 --issuer https://issuer.example.com/ --subject alice
  connectauth revoke --redis "$REDIS_URL" --token-file leaked.jwt
  connectauth revoke --redis "$REDIS_URL" --list --json
`;

const options = {
  redis: { type: "string" },
  issuer: { type: "string" },
  jti: { type: "string" },
  subject: { type: "string" },
  client: { type: "string" },
  "token-file": { type: "string" },
  before: { type: "string" },
  expires: { type: "string" },
  prefix: { type: "string", default: defaultPrefix },
  timeout: { type: "string", default: String(defaultTimeoutMs) },
  list: flag,
  json: flag,
} as const;

const command = "connectauth revoke";

/**
 * `connectauth revoke`: writes one revocation to the Redis that a fleet's revocation lists share
 * (through `createRedisRevocationList`, so exactly as a server would), or lists what is revoked.
 * Exits 0 once Redis acknowledged the write, 1 when it did not (unreachable, timed out, refused), 2 on
 * a usage error (a bad URL among them). Uses node-redis (`redis`), a dependency of this package.
 *
 * ```sh
 * connectauth revoke --redis redis://127.0.0.1:6379 --issuer https://issuer.example.com/ --jti 4f1g --expires 1767225600
 * ```
 *
 * Not checked: the token of `--token-file` (its signature is not verified: it is revoked as it reads),
 * nor who may write to Redis. No message names the URL's password, or a token.
 */
export const revokeCommand = defineCommand({
  name: "revoke",
  summary: "revoke tokens in the Redis a fleet's revocation lists share",
  help,
  config: { options },
  async run({ values, fail }, io) {
    const url = redisUrlOf(values.redis ?? io.env["CONNECTAUTH_REDIS_URL"]);
    if (typeof url === "string") return fail(url);
    const timeoutMs = wholeNumberOf(values.timeout, 1);
    if (timeoutMs === undefined) return fail(`--timeout must be a whole number of ms > 0, not "${values.timeout}"`);
    const kinds = (["jti", "subject", "client", "token-file"] as const).filter((k) => values[k] !== undefined);
    if (values.list) {
      if (kinds.length > 0 || values.before !== undefined || values.expires !== undefined) {
        return fail("--list takes no revocation (--jti, --subject, --client, --token-file, --before, --expires)");
      }
      return listRevocations(io, url, values.prefix, timeoutMs, values.json);
    }
    if (kinds.length !== 1) return fail("give exactly one of --jti, --subject, --client and --token-file");
    const kind = kinds[0];
    const before = values.before === undefined ? undefined : secondsOf(values.before);
    const expires = values.expires === undefined ? undefined : secondsOf(values.expires);
    if (before === null) return fail(`--before must be an RFC 3339 time or seconds since the epoch, not "${values.before}"`);
    if (expires === null) return fail(`--expires must be an RFC 3339 time or seconds since the epoch, not "${values.expires}"`);
    if (before !== undefined && (kind === "jti" || kind === "token-file"))
      return fail("--before goes with --subject or --client");
    if (expires !== undefined && (kind === "subject" || kind === "client"))
      return fail("--expires goes with --jti or --token-file");
    for (const k of [...kinds, "issuer"] as const) {
      if (values[k] === "") return fail(`--${k} must not be empty`);
    }
    let revocation: Revocation;
    if (kind === "token-file") {
      const read = await revocationOfTokenFile(values["token-file"] as string, values.issuer, expires);
      if (typeof read === "string") return fail(read);
      revocation = read;
    } else {
      const issuer = values.issuer;
      if (issuer === undefined) return fail("--issuer is required: the iss of the tokens to revoke");
      const at = before ?? Date.now() / 1000;
      revocation =
        kind === "jti"
          ? { issuer, jti: values.jti as string, ...(expires === undefined ? {} : { expiresAt: expires }) }
          : kind === "subject"
            ? { issuer, subject: values.subject as string, before: at }
            : { issuer, clientId: values.client as string, before: at };
    }
    try {
      // Checked and completed (a jti's default expiry) before Redis is asked, as the list would.
      revocation = normalizeRevocation(revocation, Date.now(), defaultLifetimeSeconds);
    } catch (error) {
      return fail((error as Error).message);
    }
    // As the lists keep it (their default lifetime and tolerance): one that covers only expired tokens is not stored.
    if (!(revocationEndMs(revocation, defaultLifetimeSeconds, defaultToleranceSeconds) > Date.now())) {
      io.stderr.write(`${command}: nothing to store: every token it covers has expired (${describe(revocation)})\n`);
      return 0;
    }
    return storeRevocation(io, url, values.prefix, timeoutMs, revocation, values.json);
  },
});

/** The URL of `--redis`, or the usage error's message (naming the value without its password). */
function redisUrlOf(value: string | undefined): URL | string {
  if (value === undefined || value === "") return "--redis is required: the URL of the Redis the servers' revocation lists read";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "--redis must be a redis:// or rediss:// URL";
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return `--redis must be a redis:// or rediss:// URL, not ${url.protocol}//`;
  }
  if (url.hostname === "") return "--redis must name a host (redis://host:6379)";
  return url;
}

/** Where the command went: the URL without user, password, path or query. */
const shownUrl = (url: URL) => `${url.protocol}//${url.host}`;

/** Seconds since the epoch of an RFC 3339 time or of a number of seconds; `null` for anything else. */
function secondsOf(text: string): number | null {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.test(text)) return null;
  const ms = Date.parse(text.replace(" ", "T"));
  return Number.isFinite(ms) ? ms / 1000 : null;
}

async function revocationOfTokenFile(
  file: string,
  issuerOption: string | undefined,
  expires: number | undefined,
): Promise<Revocation | string> {
  let token: string;
  try {
    token = (await readFile(file, "utf8")).trim();
  } catch (error) {
    return `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`;
  }
  let claims: ReturnType<typeof decodeJwt>;
  let digest: string;
  try {
    claims = decodeJwt(token);
    digest = revocationDigest(token);
  } catch {
    return `${file} does not hold a JWT (a compact JWS)`;
  }
  const issuer = issuerOption ?? claims.iss;
  if (typeof issuer !== "string" || issuer === "") return `the token in ${file} has no iss: give --issuer`;
  if (issuerOption !== undefined && typeof claims.iss === "string" && claims.iss !== issuerOption) {
    return `the token in ${file} is of another issuer than --issuer (its iss: ${claims.iss})`;
  }
  const exp = typeof claims.exp === "number" && Number.isFinite(claims.exp) ? claims.exp : undefined;
  const expiresAt = expires ?? exp;
  const until = expiresAt === undefined ? {} : { expiresAt };
  return typeof claims.jti === "string" && claims.jti !== ""
    ? { issuer, jti: claims.jti, ...until }
    : { issuer, digest, ...until };
}

/** A revocation list on the Redis at `url`, and how to close it and its connection. */
interface OpenList {
  readonly list: RedisRevocationList;
  close(): Promise<void>;
}

async function openList(url: URL, keyPrefix: string, timeoutMs: number): Promise<OpenList> {
  const [{ createClient }, { createRedisRevocationList, fromNodeRedis }] = await Promise.all([
    import("redis"),
    import("@connectauth/node/redis"),
  ]);
  // No reconnection: a Redis that cannot be reached fails the command at once.
  const client = createClient({ url: url.href, socket: { reconnectStrategy: false, connectTimeout: timeoutMs } });
  client.on("error", () => {}); // the command reports what failed, without the client's text (it may name hosts)
  try {
    await withinMs(client.connect(), timeoutMs);
  } catch (error) {
    client.destroy();
    throw error;
  }
  const list = createRedisRevocationList({ redis: fromNodeRedis(client), keyPrefix, timeoutMs });
  return {
    list,
    async close() {
      await list.close();
      client.destroy();
    },
  };
}

async function storeRevocation(
  io: CommandIo,
  url: URL,
  prefix: string,
  timeoutMs: number,
  revocation: Revocation,
  json: boolean,
): Promise<number> {
  let open: OpenList;
  try {
    open = await openList(url, prefix, timeoutMs);
  } catch {
    io.stderr.write(`${command}: cannot reach Redis at ${shownUrl(url)}: nothing was revoked\n`);
    return 1;
  }
  try {
    await open.list.revoke(revocation);
  } catch (error) {
    const why = (error as { fault?: string }).fault === "timeout" ? "did not answer in time (it may still store it)" : "failed";
    io.stderr.write(`${command}: Redis at ${shownUrl(url)} ${why}: the revocation is not known to be stored\n`);
    return 1;
  } finally {
    await open.close();
  }
  io.stdout.write(json ? stableJson({ revoked: revocation, redis: shownUrl(url) }) : `revoked ${describe(revocation)}\n`);
  return 0;
}

async function listRevocations(io: CommandIo, url: URL, prefix: string, timeoutMs: number, json: boolean): Promise<number> {
  let open: OpenList;
  try {
    open = await openList(url, prefix, timeoutMs);
  } catch {
    io.stderr.write(`${command}: cannot reach Redis at ${shownUrl(url)}\n`);
    return 1;
  }
  let revocations: readonly Revocation[];
  try {
    await withinMs(open.list.caughtUp(), timeoutMs);
    revocations = await open.list.list();
  } catch {
    io.stderr.write(`${command}: could not read the revocations from Redis at ${shownUrl(url)} in time\n`);
    return 1;
  } finally {
    await open.close();
  }
  const sorted = [...revocations].sort((a, b) => describe(a).localeCompare(describe(b)));
  if (json) {
    io.stdout.write(stableJson({ revocations: sorted }));
    return 0;
  }
  for (const r of sorted) io.stdout.write(`${describe(r)}\n`);
  io.stdout.write(`${sorted.length} revocation${sorted.length === 1 ? "" : "s"} in ${shownUrl(url)}\n`);
  return 0;
}

/** One revocation on one line: `jti "4f1g" of https://issuer.example.com/ until 2026-01-01T00:00:00Z`. */
function describe(r: Revocation): string {
  const time = (s: number | undefined) => (s === undefined ? "?" : new Date(s * 1000).toISOString());
  if ("jti" in r) return `jti ${JSON.stringify(r.jti)} of ${r.issuer} until ${time(r.expiresAt)}`;
  if ("digest" in r) return `token digest ${r.digest} of ${r.issuer} until ${time(r.expiresAt)}`;
  if ("subject" in r) return `subject ${JSON.stringify(r.subject)} of ${r.issuer}: tokens issued before ${time(r.before)}`;
  return `client ${JSON.stringify(r.clientId)} of ${r.issuer}: tokens issued before ${time(r.before)}`;
}

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
