import { parseArgs } from "node:util";
import type { Command } from "../command.js";
import { startDevServer } from "../dev-server.js";

const usage = `usage: connectauth dev [--port N] [--host H] [--audience A] [--client-id ID] [--client-secret S] [--scope "a b"] [--ttl SECONDS]
`;

/**
 * `connectauth dev`: runs a local development issuer until interrupted (Ctrl-C) and prints its URL,
 * JWKS, token endpoint and how to point a server at it.
 */
export const devCommand: Command = {
  name: "dev",
  summary: "run a local development issuer (JWKS, discovery, client_credentials token endpoint)",
  async run(args, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: {
          port: { type: "string", default: "8181" },
          host: { type: "string", default: "127.0.0.1" },
          audience: { type: "string", default: "greeter" },
          "client-id": { type: "string", default: "dev-client" },
          "client-secret": { type: "string", default: "dev-secret" },
          scope: { type: "string", default: "" },
          ttl: { type: "string", default: "3600" },
        },
      }));
    } catch (e) {
      io.stderr.write(`connectauth dev: ${(e as Error).message}\n${usage}`);
      return 2;
    }
    const port = Number(values.port);
    const ttl = Number(values.ttl);
    if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(ttl) || ttl <= 0) {
      io.stderr.write(`connectauth dev: --port must be a port number and --ttl a positive number of seconds\n${usage}`);
      return 2;
    }
    const dev = await startDevServer({
      port,
      host: values.host,
      audience: values.audience,
      clientId: values["client-id"],
      clientSecret: values["client-secret"],
      defaultScopes: values.scope.split(" ").filter((s) => s !== ""),
      ttlSeconds: ttl,
    });
    io.stdout.write(
      [
        `development issuer: ${dev.url}`,
        `  discovery  ${dev.url}/.well-known/openid-configuration`,
        `  jwks       ${dev.url}/.well-known/jwks.json`,
        `  token      POST ${dev.url}/token  (grant_type=client_credentials, client ${values["client-id"]}:${values["client-secret"]}, basic or post)`,
        `  audience   ${values.audience}`,
        `a server:    npm run serve -- --issuer ${dev.url} --audience ${values.audience} --jwks-url ${dev.url}/.well-known/jwks.json`,
        `a token:     connectauth token mint --issuer ${dev.url} --sub alice --scope greet`,
        "",
      ].join("\n"),
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await dev.close();
    return 0;
  },
};
