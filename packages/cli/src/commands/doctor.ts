import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Command } from "../command.js";
import { diagnose } from "../diagnose.js";
import { stableJson } from "../json.js";
import { formatDiagnosis } from "../doctor-report.js";
import { type Protocol, protocols } from "../raw-call.js";
import { styleFor } from "../style.js";

const usage = `usage: connectauth doctor <base-url> <package.Service/Method> [--token T | --token-file F]
       [--protocol connect|grpc|grpc-web] [--http-version 1.1|2] [--ca F] [--timeout MS] [--json]
`;

/**
 * `connectauth doctor`: diagnoses one call (transport, token, the server's answer) and prints the
 * verdict and its fix; `--json` prints the {@link Diagnosis} object. Exit code 0 when the call passes,
 * 1 when it does not, 2 on a usage error.
 */
export const doctorCommand: Command = {
  name: "doctor",
  summary: "diagnose a call: transport, token, the server's answer, and the fix",
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: {
          token: { type: "string" },
          "token-file": { type: "string" },
          protocol: { type: "string", default: "connect" },
          "http-version": { type: "string" },
          ca: { type: "string" },
          timeout: { type: "string" },
          json: { type: "boolean", default: false },
        },
      });
    } catch (e) {
      io.stderr.write(`connectauth doctor: ${(e as Error).message}\n${usage}`);
      return 2;
    }
    const { values: v, positionals } = parsed;
    const fail = (message: string) => {
      io.stderr.write(`connectauth doctor: ${message}\n${usage}`);
      return 2;
    };
    if (positionals.length !== 2) return fail("expected a base URL and a method");
    if (v.token !== undefined && v["token-file"] !== undefined) return fail("give --token or --token-file, not both");
    if (!protocols.includes(v.protocol as Protocol)) return fail(`--protocol must be one of ${protocols.join(", ")}`);
    const httpVersion = v["http-version"];
    if (httpVersion !== undefined && httpVersion !== "1.1" && httpVersion !== "2") return fail("--http-version must be 1.1 or 2");
    const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout);
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) return fail("--timeout must be a positive integer (ms)");
    let token = v.token;
    let ca: string | undefined;
    try {
      // A file's surrounding whitespace (its final newline) is not part of the token.
      if (v["token-file"] !== undefined) token = (await readFile(v["token-file"], "utf8")).trim();
      if (v.ca !== undefined) ca = await readFile(v.ca, "utf8");
    } catch (e) {
      return fail(`cannot read ${(e as NodeJS.ErrnoException).path ?? "file"} (${(e as NodeJS.ErrnoException).code})`);
    }
    let diagnosis;
    try {
      diagnosis = await diagnose({
        baseUrl: positionals[0]!,
        method: positionals[1]!,
        token,
        protocol: v.protocol as Protocol,
        httpVersion,
        ca,
        timeoutMs,
      });
    } catch (e) {
      if (e instanceof TypeError) return fail(e.message);
      throw e;
    }
    io.stdout.write(v.json ? stableJson(diagnosis) : formatDiagnosis(diagnosis, styleFor(io)));
    return diagnosis.verdict.ok ? 0 : 1;
  },
};
