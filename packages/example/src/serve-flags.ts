import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { DpopOptions } from "@connectauth/server";
import { redisUrlProblem } from "./redis-fleet.js";
import type { ExampleServerOptions } from "./server.js";

/** What the flags of `npm run serve` ask for: the server's options, and how its DPoP nonces are made. */
export interface ServeFlags {
  readonly options: ExampleServerOptions;
  /** `""` without nonces, else a few words on where the secret comes from (never the secret). */
  readonly nonce: string;
}

/** The smallest nonce secret the server takes (createDpopNonces), in bytes. */
const minSecretBytes = 32;

/**
 * Reads the flags of `npm run serve` (serve.ts): `--port`, `--host`, `--issuer --audience --jwks-url
 * [--algorithms]`, `--dpop required|allowed`, `--dpop-nonce`, `--dpop-nonce-secret S`, `--public-origin O`
 * (the origin DPoP proofs name, the same on every server of a fleet behind one address),
 * `--clock-tolerance S`, `--redis URL` and `--revocation-staleness S`. A bad flag is `{ error }`, a
 * sentence that names it (serve.ts exits 2); neither the nonce secret nor the Redis URL is in it. Without `--dpop-nonce-secret`, `--dpop-nonce` takes a random secret
 * (32 bytes of `randomSecret`), so only servers given the same secret accept each other's nonces.
 *
 * ```ts
 * readServeFlags(["--dpop", "required", "--dpop-nonce-secret", secret]).options.dpop;
 * // { mode: "required", nonce: { secret } }
 * ```
 *
 * Not checked here: what the server checks itself (the algorithms' names, the JWKS URL's scheme): its
 * TypeError comes when it starts.
 */
export function readServeFlags(
  args: readonly string[],
  randomSecret: () => string = () => randomBytes(minSecretBytes).toString("base64url"),
): ServeFlags | { readonly error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "127.0.0.1" },
        issuer: { type: "string" },
        audience: { type: "string" },
        "jwks-url": { type: "string" },
        algorithms: { type: "string" },
        dpop: { type: "string" },
        "dpop-nonce": { type: "boolean", default: false },
        "dpop-nonce-secret": { type: "string" },
        "public-origin": { type: "string" },
        "clock-tolerance": { type: "string" },
        redis: { type: "string" },
        "revocation-staleness": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    return { error: `--port must be a port number from 0 to 65535, got "${values.port}"` };
  }
  const external = [values.issuer, values.audience, values["jwks-url"]];
  if (external.some((v) => v !== undefined) && external.some((v) => v === undefined)) {
    return { error: "--issuer, --audience and --jwks-url go together: give all three, or none for the development issuer" };
  }
  const tolerance = values["clock-tolerance"];
  if (tolerance !== undefined && !/^\d+$/.test(tolerance)) {
    return { error: `--clock-tolerance must be a whole number of seconds (0 or more), got "${tolerance}"` };
  }
  const redis = redisOf(values.redis, values["revocation-staleness"]);
  if ("error" in redis) return redis;
  const dpop = dpopOf(values.dpop, values["dpop-nonce"], values["dpop-nonce-secret"], values["public-origin"], randomSecret);
  if ("error" in dpop) return dpop;
  const auth: ExampleServerOptions["auth"] =
    values.issuer === undefined || values.audience === undefined || values["jwks-url"] === undefined
      ? { kind: "dev" }
      : {
          kind: "external",
          issuer: values.issuer,
          audience: values.audience,
          jwksUrl: values["jwks-url"],
          algorithms: values.algorithms?.split(",").map((a) => a.trim()),
        };
  return {
    options: {
      port,
      host: values.host,
      auth,
      dpop: dpop.options,
      clockToleranceSeconds: tolerance === undefined ? undefined : Number(tolerance),
      ...(redis.options === undefined ? {} : { redis: redis.options }),
    },
    nonce: dpop.nonce,
  };
}

/** The `redis` option of the flags `--redis` and `--revocation-staleness` (the URL is never in an error). */
function redisOf(
  url: string | undefined,
  staleness: string | undefined,
): { readonly options: ExampleServerOptions["redis"] } | { readonly error: string } {
  if (url === undefined) {
    if (staleness !== undefined) return { error: "--revocation-staleness needs --redis URL" };
    return { options: undefined };
  }
  const problem = redisUrlProblem(url);
  if (problem !== undefined) return { error: `--redis ${problem}` };
  if (staleness !== undefined && !/^[1-9]\d*$/.test(staleness)) {
    return { error: `--revocation-staleness must be a whole number of seconds (1 or more), got "${staleness}"` };
  }
  return { options: { url, stalenessSeconds: staleness === undefined ? undefined : Number(staleness) } };
}

/** The `dpop` option of the flags `--dpop`, `--dpop-nonce` and `--dpop-nonce-secret`. */
function dpopOf(
  mode: string | undefined,
  nonce: boolean,
  secret: string | undefined,
  publicOrigin: string | undefined,
  randomSecret: () => string,
): { readonly options: DpopOptions | undefined; readonly nonce: string } | { readonly error: string } {
  if (mode === undefined) {
    if (nonce || secret !== undefined) return { error: "--dpop-nonce and --dpop-nonce-secret need --dpop required|allowed" };
    if (publicOrigin !== undefined) return { error: "--public-origin needs --dpop required|allowed" };
    return { options: undefined, nonce: "" };
  }
  if (mode !== "required" && mode !== "allowed") return { error: `--dpop must be "required" or "allowed", got "${mode}"` };
  if (secret !== undefined && new TextEncoder().encode(secret).length < minSecretBytes) {
    return {
      error: `--dpop-nonce-secret must be at least ${minSecretBytes} bytes (e.g. the output of openssl rand -base64 32); the one given is shorter`,
    };
  }
  const origin: { readonly publicOrigin?: string } | { readonly error: string } =
    publicOrigin === undefined ? {} : originOf(publicOrigin);
  if ("error" in origin) return { error: origin.error };
  if (!nonce && secret === undefined) return { options: { mode, ...origin }, nonce: "" };
  return {
    options: { mode, ...origin, nonce: { secret: secret ?? randomSecret() } },
    nonce: secret === undefined ? ", with nonces (a random secret of this process)" : ", with nonces (the secret given)",
  };
}

/** The `publicOrigin` of `--public-origin`: an http(s) origin, nothing after it. */
function originOf(value: string): { readonly publicOrigin: string } | { readonly error: string } {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== value.replace(/\/$/, "")) {
    return { error: `--public-origin must be an origin such as https://api.example.com, got "${value}"` };
  }
  return { publicOrigin: url.origin };
}
