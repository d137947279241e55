import { readFile } from "node:fs/promises";
import { isJwkThumbprint } from "@connectauth/node/dev";
import { defineCommand } from "../command-line.js";
import type { CommandGroup } from "../command.js";
import { tokenLines } from "../doctor-report.js";
import { stableJson } from "../json.js";
import { flag, wholeNumberOf } from "../option-values.js";
import { lifetimeWarning, serverMaxLifetimeSeconds } from "../lifetime-cap.js";
import { styleFor } from "../style.js";
import { tokenFacts } from "../token-facts.js";

const defaultIssuer = "http://127.0.0.1:8181";

const mintHelp = `usage: connectauth token mint --sub S [--scope "a b"] [--ttl SECONDS] [--aud A] [--jkt THUMBPRINT] [--issuer URL]

Asks a running "connectauth dev" for a signed token and prints it, alone on stdout, so that
TOKEN=$(connectauth token mint …) works. Warns on stderr when the lifetime is longer than servers
accept by default (${serverMaxLifetimeSeconds} s).

options:
  --sub S          the subject (sub claim); required
  --scope "a b"    the scopes (scope claim), space-separated; default none
  --ttl SECONDS    the lifetime, default 3600; negative: already expired (--ttl -60)
  --aud A          the audience; default the issuer's (connectauth dev --audience)
  --jkt THUMBPRINT bind the token to a DPoP key (cnf.jkt): the RFC 7638 SHA-256 thumbprint of its
                   public JWK (43 base64url characters); send it with "Authorization: DPoP" and proofs
  --issuer URL     the development issuer; default $CONNECTAUTH_DEV_ISSUER, else ${defaultIssuer}
  -h, --help       this help

example:
  TOKEN=$(connectauth token mint --sub alice --scope "books.read books.write")
  TOKEN=$(connectauth token mint --sub alice --scope greet --jkt "$JKT")   # DPoP-bound
`;

const decodeHelp = `usage: connectauth token decode <token> | --file F | - [--json]

Prints what a token says (header, claims, and its lifetime by this machine's clock) without verifying
it, and its short hash (the first 8 hex digits of its SHA-256, the tokenHash of decision events).
Exit code 1 when it is not a JWT.

options:
  --file F      read the token from a file (its surrounding whitespace dropped)
  -             read it from stdin
  --json        the TokenFacts object as JSON
  -h, --help    this help

example:
  connectauth token decode "$TOKEN"
`;

const mintOptions = {
  issuer: { type: "string" },
  sub: { type: "string" },
  scope: { type: "string", default: "" },
  ttl: { type: "string", default: "3600" },
  aud: { type: "string" },
  jkt: { type: "string" },
} as const;

const decodeOptions = { file: { type: "string" }, json: flag } as const;

/**
 * `connectauth token mint`: asks a running `connectauth dev` issuer for a token (its development mint)
 * and prints it; warns when its lifetime exceeds the servers' default cap. With `--jkt`, the token is
 * bound to that DPoP key (`cnf.jkt`).
 *
 * ```sh
 * TOKEN=$(connectauth token mint --sub alice --scope greet --ttl -60)   # an expired token
 * ```
 *
 * Not checked: the cap of a particular server (only the default one is known); that anyone holds the
 * key of a `--jkt` (its form only).
 */
export const mintCommand = defineCommand({
  name: "mint",
  summary: "mint a token from a running `connectauth dev`",
  help: mintHelp,
  usage: "connectauth token mint",
  config: { options: mintOptions },
  async run({ values, fail }, io) {
    if (values.sub === undefined || values.sub === "") return fail("--sub is required: the token's subject, e.g. --sub alice");
    const ttl = wholeNumberOf(values.ttl, -Number.MAX_SAFE_INTEGER);
    if (ttl === undefined)
      return fail(`--ttl must be a whole number of seconds (negative: already expired), not "${values.ttl}"`);
    if (values.jkt !== undefined && !isJwkThumbprint(values.jkt))
      return fail(
        `--jkt must be the SHA-256 JWK thumbprint of the DPoP key (43 base64url characters, RFC 7638), not "${values.jkt}"`,
      );
    const issuer = values.issuer ?? io.env["CONNECTAUTH_DEV_ISSUER"] ?? defaultIssuer;
    let endpoint: URL;
    try {
      endpoint = new URL("/dev/mint", issuer);
      if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") throw new TypeError();
    } catch {
      return fail(`--issuer must be the http(s) URL of a connectauth dev issuer, not "${issuer}"`);
    }
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: values.sub, scope: values.scope, ttl, aud: values.aud, jkt: values.jkt }),
      });
    } catch {
      io.stderr.write(
        `connectauth token mint: no development issuer at ${issuer}: start one with connectauth dev, or name yours with --issuer URL\n`,
      );
      return 1;
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
    if (!response.ok || typeof body.access_token !== "string") {
      io.stderr.write(`connectauth token mint: the issuer answered ${response.status} ${body.error_description ?? ""}\n`);
      return 1;
    }
    const warning = lifetimeWarning(ttl);
    if (warning !== undefined) io.stderr.write(`connectauth token mint: warning: ${warning}\n`);
    io.stdout.write(`${body.access_token}\n`);
    return 0;
  },
});

/**
 * `connectauth token decode`: prints what a token says, unverified, and its short hash.
 *
 * ```sh
 * connectauth token decode "$TOKEN" --json
 * ```
 *
 * Not checked: the signature, or anything a server verifies.
 */
export const decodeCommand = defineCommand({
  name: "decode",
  summary: "print what a token says (unverified) and its short hash",
  help: decodeHelp,
  usage: "connectauth token decode",
  config: { options: decodeOptions, allowPositionals: true },
  async run({ values, positionals, fail }, io) {
    if (positionals.length + (values.file === undefined ? 0 : 1) !== 1)
      return fail("give one token: <token>, --file F, or - for stdin");
    let token: string;
    try {
      if (values.file !== undefined) token = (await readFile(values.file, "utf8")).trim();
      else if (positionals[0] === "-") token = (await readStdin()).trim();
      else token = positionals[0];
    } catch (e) {
      return fail(`cannot read ${values.file ?? "stdin"} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (token === "") return fail("the token is empty");
    const facts = tokenFacts(token, Date.now());
    io.stdout.write(values.json ? stableJson(facts) : `${tokenLines(facts, styleFor(io)).join("\n")}\n`);
    return facts.isJwt ? 0 : 1;
  },
});

const subcommands = [mintCommand, decodeCommand];

/**
 * `connectauth token`: `mint` asks a running `connectauth dev` issuer for a token; `decode` prints what
 * a token says (not verified) and its short hash.
 *
 * ```sh
 * connectauth token decode "$(connectauth token mint --sub alice)"
 * ```
 */
export const tokenCommand: CommandGroup = {
  name: "token",
  summary: "mint a token from `connectauth dev`, or decode one (unverified)",
  help: [
    `usage: ${subcommands.map((c) => c.help.split("\n\n")[0].replace(/^usage: /, "")).join("\n       ")}`,
    "",
    "subcommands:",
    ...subcommands.map((c) => `  ${c.name.padEnd(8)}${c.summary}`),
    "",
    'run "connectauth token <subcommand> --help" for its options',
    "",
  ].join("\n"),
  subcommands,
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
