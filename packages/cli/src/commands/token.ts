import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Command, CommandIo } from "../command.js";
import { tokenLines } from "../doctor-report.js";
import { stableJson } from "../json.js";
import { styleFor } from "../style.js";
import { tokenFacts } from "../token-facts.js";

const usage = `usage: connectauth token mint [--issuer URL] --sub S [--scope "a b"] [--ttl SECONDS] [--aud A]
       connectauth token decode <token> | --file F | - (stdin) [--json]
`;

/**
 * `connectauth token`: `mint` asks a running `connectauth dev` issuer for a token (its development
 * mint) and prints it; `decode` prints what a token says (not verified) and its short hash.
 */
export const tokenCommand: Command = {
  name: "token",
  summary: "mint a token from `connectauth dev`, or decode one (unverified)",
  async run(args, io) {
    const [sub, ...rest] = args;
    try {
      if (sub === "mint") return await mint(rest, io);
      if (sub === "decode") return await decode(rest, io);
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        io.stderr.write(`connectauth token: ${(e as Error).message}\n${usage}`);
        return 2;
      }
      throw e;
    }
    io.stderr.write(usage);
    return 2;
  },
};

async function mint(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      issuer: { type: "string", default: io.env["CONNECTAUTH_DEV_ISSUER"] ?? "http://127.0.0.1:8181" },
      sub: { type: "string" },
      scope: { type: "string", default: "" },
      ttl: { type: "string", default: "3600" },
      aud: { type: "string" },
    },
  });
  const ttl = Number(values.ttl);
  if (values.sub === undefined || values.sub === "" || !Number.isInteger(ttl)) {
    io.stderr.write(`connectauth token mint: --sub is required and --ttl is a whole number of seconds (negative: already expired)\n${usage}`);
    return 2;
  }
  let response: Response;
  try {
    response = await fetch(new URL("/dev/mint", values.issuer), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: values.sub, scope: values.scope, ttl, aud: values.aud }),
    });
  } catch {
    io.stderr.write(`connectauth token mint: no development issuer at ${values.issuer} (start one with: connectauth dev)\n`);
    return 1;
  }
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
  if (!response.ok || typeof body.access_token !== "string") {
    io.stderr.write(`connectauth token mint: the issuer answered ${response.status} ${body.error_description ?? ""}\n`);
    return 1;
  }
  io.stdout.write(`${body.access_token}\n`);
  return 0;
}

async function decode(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { file: { type: "string" }, json: { type: "boolean", default: false } },
  });
  let token: string | undefined;
  if (values.file !== undefined) token = (await readFile(values.file, "utf8")).trim();
  else if (positionals[0] === "-") token = (await readStdin()).trim();
  else token = positionals[0];
  if (token === undefined || token === "") {
    io.stderr.write(usage);
    return 2;
  }
  const facts = tokenFacts(token, Date.now());
  io.stdout.write(values.json ? stableJson(facts) : `${tokenLines(facts, styleFor(io)).join("\n")}\n`);
  return facts.isJwt ? 0 : 1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
