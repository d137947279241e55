import { readFile } from "node:fs/promises";
import { defineCommand } from "../command-line.js";
import { diagnose } from "../diagnose.js";
import { type DpopKey, readDpopKey } from "../dpop-key.js";
import { stableJson } from "../json.js";
import { flag, wholeNumberOf } from "../option-values.js";
import { formatDiagnosis } from "../doctor-report.js";
import { type Protocol, protocols } from "../raw-call.js";
import { styleFor } from "../style.js";

const help = `usage: connectauth doctor <base-url> <package.Service/Method> [--token T | --token-file F] [--dpop-key F]
       [--protocol connect|grpc|grpc-web] [--http-version 1.1|2] [--ca F] [--timeout MS] [--json]

Diagnoses one call, in this order, and stops at the first cause it can name: the transport (is it
listening, TLS or plaintext, the certificate, HTTP/1.1 and HTTP/2), the server's grpc.health.v1
Check (without the token; NOT_SERVING is said before the call, never instead of it), the token
(decoded, not verified, against this machine's clock), then a unary call with an empty request and the server's
answer. Prints the verdict and the fix. The token is never printed (only its short hash), nor the
DPoP key or its proofs (only thumbprints). Exit code 0 when the call passes, 1 when it does not, 2 on
a usage error.

options:
  --token T             the token, sent as "Authorization: Bearer T"; none: no credential
  --token-file F        read the token from a file (its surrounding whitespace dropped)
  --dpop-key F          send the token with DPoP (RFC 9449): "Authorization: DPoP T" and a proof of the
                        call signed by this private JWK (EC, Ed25519 or RSA); follows one nonce
  --protocol P          connect (default), grpc or grpc-web
  --http-version V      1.1 or 2; default HTTP/2 when the server speaks it
  --ca F                extra trusted CA certificates (PEM)
  --timeout MS          per-step timeout in milliseconds (default 5000)
  --json                the diagnosis as JSON (schema "connectauth.doctor/v1")
  -h, --help            this help

example:
  connectauth doctor http://127.0.0.1:8080 acme.v1.BookService/GetBook --token "$TOKEN"
  connectauth doctor http://127.0.0.1:8080 acme.v1.BookService/GetBook --token "$TOKEN" --dpop-key key.jwk
`;

const options = {
  token: { type: "string" },
  "token-file": { type: "string" },
  "dpop-key": { type: "string" },
  protocol: { type: "string", default: "connect" },
  "http-version": { type: "string" },
  ca: { type: "string" },
  timeout: { type: "string" },
  json: flag,
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
 * Not covered: streaming calls and client certificates (see {@link diagnose}); a DPoP key is read, never
 * printed.
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
    const timeoutMs = v.timeout === undefined ? undefined : wholeNumberOf(v.timeout, 1);
    if (v.timeout !== undefined && timeoutMs === undefined) return fail("--timeout must be a positive integer (ms)");
    if (v["dpop-key"] !== undefined && v.token === undefined && v["token-file"] === undefined)
      return fail("--dpop-key needs a token to prove: give --token or --token-file");
    let token = v.token;
    let ca: string | undefined;
    let dpopText: string | undefined;
    try {
      // A file's surrounding whitespace (its final newline) is not part of the token.
      if (v["token-file"] !== undefined) token = (await readFile(v["token-file"], "utf8")).trim();
      if (v.ca !== undefined) ca = await readFile(v.ca, "utf8");
      if (v["dpop-key"] !== undefined) dpopText = await readFile(v["dpop-key"], "utf8");
    } catch (e) {
      return fail(`cannot read ${(e as NodeJS.ErrnoException).path ?? "file"} (${(e as NodeJS.ErrnoException).code})`);
    }
    let dpopKey: DpopKey | undefined;
    try {
      if (dpopText !== undefined) dpopKey = await readDpopKey(dpopText);
    } catch (e) {
      // readDpopKey's TypeErrors are fixed sentences: never the file's text.
      if (e instanceof TypeError) return fail(e.message);
      throw e;
    }
    let diagnosis;
    try {
      diagnosis = await diagnose({
        baseUrl: positionals[0],
        method: positionals[1],
        token,
        dpopKey,
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
