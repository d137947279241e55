import { readFile } from "node:fs/promises";
import { defineCommand } from "../command-line.js";
import { diagnose } from "../diagnose.js";
import { stableJson } from "../json.js";
import { formatDiagnosis } from "../doctor-report.js";
import { type Protocol, protocols } from "../raw-call.js";
import { styleFor } from "../style.js";

const help = `usage: connectauth doctor <base-url> <package.Service/Method> [--token T | --token-file F]
       [--protocol connect|grpc|grpc-web] [--http-version 1.1|2] [--ca F] [--timeout MS] [--json]

Diagnoses one call, in this order, and stops at the first cause it can name: the transport (is it
listening, TLS or plaintext, the certificate, HTTP/1.1 and HTTP/2), the token (decoded, not
verified, against this machine's clock), then a unary call with an empty request and the server's
answer. Prints the verdict and the fix. The token is never printed (only its short hash). Exit code
0 when the call passes, 1 when it does not, 2 on a usage error.

options:
  --token T             the token, sent as "Authorization: Bearer T"; none: no credential
  --token-file F        read the token from a file (its surrounding whitespace dropped)
  --protocol P          connect (default), grpc or grpc-web
  --http-version V      1.1 or 2; default HTTP/2 when the server speaks it
  --ca F                extra trusted CA certificates (PEM)
  --timeout MS          per-step timeout in milliseconds (default 5000)
  --json                the diagnosis as JSON (schema "connectauth.doctor/v1")
  -h, --help            this help

example:
  connectauth doctor http://127.0.0.1:8080 acme.v1.BookService/GetBook --token "$TOKEN"
`;

const options = {
  token: { type: "string" },
  "token-file": { type: "string" },
  protocol: { type: "string", default: "connect" },
  "http-version": { type: "string" },
  ca: { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/**
 * `connectauth doctor`: diagnoses one call (transport, token, the server's answer) and prints the
 * verdict and its fix; `--json` prints the {@link Diagnosis} object. Exit code 0 when the call passes,
 * 1 when it does not, 2 on a usage error.
 *
 * ```sh
 * connectauth doctor http://127.0.0.1:8080 acme.v1.BookService/GetBook --token "$TOKEN" --json
 * ```
 *
 * Not covered: streaming calls and client certificates (see {@link diagnose}).
 */
export const doctorCommand = defineCommand({
  name: "doctor",
  summary: "diagnose a call: transport, token, the server's answer, and the fix",
  help,
  config: { options, allowPositionals: true },
  async run({ values: v, positionals, fail }, io) {
    if (positionals.length !== 2) return fail("expected a base URL and a method (package.Service/Method)");
    if (v.token !== undefined && v["token-file"] !== undefined) return fail("give --token or --token-file, not both");
    if (!protocols.includes(v.protocol as Protocol)) return fail(`--protocol must be one of ${protocols.join(", ")}`);
    const httpVersion = v["http-version"];
    if (httpVersion !== undefined && httpVersion !== "1.1" && httpVersion !== "2") return fail("--http-version must be 1.1 or 2");
    const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout);
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0))
      return fail("--timeout must be a positive integer (ms)");
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
        baseUrl: positionals[0],
        method: positionals[1],
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
});
