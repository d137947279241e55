import { devDefaults, startDevServer } from "@connectauth/node/dev";
import { defineCommand } from "../command-line.js";
import { processInterrupt } from "../interrupt.js";
import { lifetimeWarning } from "../lifetime-cap.js";
import { wholeNumberOf } from "../option-values.js";

const help = `usage: connectauth dev [--port N] [--host H] [--audience A] [--client-id ID] [--client-secret S]
                       [--scope "a b"] [--ttl SECONDS]

Runs a development issuer on this machine until Ctrl-C: one ES256 key made at start, its JWKS,
OpenID discovery, a client_credentials token endpoint, and the development mint that
"connectauth token mint" asks. A token request with a DPoP proof (RFC 9449) gets a token bound to
the proof's key (token_type DPoP, cnf.jkt). Prints the createJwtAuthenticator options
(@connectauth/server) that trust it, and what to run next. For development only: anyone who
reaches it can mint tokens.

options:
  --port N             the port (default 8181; 0: any free port)
  --host H             the address to listen on (default 127.0.0.1; keep it on loopback)
  --audience A         the aud of its tokens (default ${devDefaults.audience})
  --client-id ID       the one client of the token endpoint (default ${devDefaults.clientId})
  --client-secret S    its secret (default ${devDefaults.clientSecret})
  --scope "a b"        scopes granted when a token request names none (default none)
  --ttl SECONDS        lifetime of the token endpoint's tokens (default ${devDefaults.ttlSeconds})
  -h, --help           this help

example:
  connectauth dev --audience my-api
`;

const options = {
  port: { type: "string", default: "8181" },
  host: { type: "string", default: "127.0.0.1" },
  audience: { type: "string", default: devDefaults.audience },
  "client-id": { type: "string", default: devDefaults.clientId },
  "client-secret": { type: "string", default: devDefaults.clientSecret },
  scope: { type: "string", default: "" },
  ttl: { type: "string", default: String(devDefaults.ttlSeconds) },
} as const;

/**
 * `connectauth dev`: runs a local development issuer until interrupted (Ctrl-C, or `io.signal`) and
 * prints its URL, JWKS and token endpoint (DPoP-bound tokens for a request with a DPoP proof), the
 * `createJwtAuthenticator({…})` call that trusts it (its JWKS is http, so `remote: {
 * allowInsecureLoopback: true }`; DPoP as a comment), and the commands to run next.
 *
 * ```sh
 * connectauth dev --audience my-api
 * ```
 *
 * Not checked: that `--host` is loopback (servers refuse an http JWKS anywhere else).
 */
export const devCommand = defineCommand({
  name: "dev",
  summary: "run a local development issuer (JWKS, discovery, client_credentials token endpoint)",
  help,
  config: { options },
  async run({ values, fail }, io) {
    const port = wholeNumberOf(values.port, 0, 65535);
    if (port === undefined) return fail(`--port must be a port number from 0 to 65535 (0: any free port), not "${values.port}"`);
    const ttl = wholeNumberOf(values.ttl, 1);
    if (ttl === undefined) return fail(`--ttl must be a positive whole number of seconds, not "${values.ttl}"`);
    const warning = lifetimeWarning(ttl);
    if (warning !== undefined) io.stderr.write(`connectauth dev: warning: --ttl ${ttl}: ${warning}\n`);
    const scopes = values.scope.split(" ").filter((s) => s !== "");
    let dev;
    try {
      dev = await startDevServer({
        port,
        host: values.host,
        audience: values.audience,
        clientId: values["client-id"],
        clientSecret: values["client-secret"],
        defaultScopes: scopes,
        ttlSeconds: ttl,
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") {
        io.stderr.write(
          `connectauth dev: port ${port} of ${values.host} is in use: pick another with --port N (--port 0: any free port)\n`,
        );
        return 1;
      }
      if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EACCES") {
        io.stderr.write(
          `connectauth dev: cannot listen on ${values.host}:${port} (${code}): fix --host (default 127.0.0.1) or --port\n`,
        );
        return 1;
      }
      throw e;
    }
    const jwks = `${dev.url}/.well-known/jwks.json`;
    io.stdout.write(
      [
        `development issuer: ${dev.url}`,
        `  discovery  ${dev.url}/.well-known/openid-configuration`,
        `  jwks       ${jwks}`,
        `  token      POST ${dev.url}/token  (grant_type=client_credentials, client ${values["client-id"]}:${values["client-secret"]}, basic or post)`,
        "             with a DPoP proof header: a DPoP-bound token (token_type DPoP, cnf.jkt of the proof's key)",
        `  audience   ${values.audience}`,
        "",
        "trust it in your server (@connectauth/server):",
        "  createJwtAuthenticator({",
        `    issuer: ${JSON.stringify(dev.url)},`,
        `    audience: ${JSON.stringify(values.audience)},`,
        '    algorithms: ["ES256"],',
        `    keys: new URL(${JSON.stringify(jwks)}),`,
        "    remote: { allowInsecureLoopback: true }, // its JWKS is http: accepted on loopback only",
        '    // dpop: "required", // or "allowed": tokens bound to a key, sent with a DPoP proof per call',
        "  })",
        "",
        "then:",
        `  TOKEN=$(connectauth token mint --issuer ${dev.url} --sub alice --scope "${scopes.length > 0 ? scopes.join(" ") : "<the scopes of your method>"}")`,
        '  connectauth doctor <your server\'s URL> <package.Service/Method> --token "$TOKEN"',
        "  # DPoP: --jkt <your key's thumbprint> on token mint, --dpop-key <your private JWK file> on doctor",
        "  connectauth audit    # the scopes each method needs",
        "",
        "Ctrl-C stops it.",
        "",
      ].join("\n"),
    );
    const signal = io.signal ?? processInterrupt();
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await dev.close();
    return 0;
  },
});
