// npm run serve -- [--port N] [--host H] [--issuer I --audience A --jwks-url U [--algorithms ES256,RS256]]
// Starts the Greeter server alone. Without issuer flags it runs the embedded development issuer and
// prints a token to call it with.
import { parseArgs } from "node:util";
import { startExampleServer } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    issuer: { type: "string" },
    audience: { type: "string" },
    "jwks-url": { type: "string" },
    algorithms: { type: "string" },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got "${values.port}"`);
  process.exit(2);
}
const external = [values.issuer, values.audience, values["jwks-url"]];
if (external.some((v) => v !== undefined) && external.some((v) => v === undefined)) {
  console.error("--issuer, --audience and --jwks-url go together: give all three, or none for the development issuer");
  process.exit(2);
}

const server = await startExampleServer({
  webPage: true,
  port,
  host: values.host,
  auth:
    values.issuer === undefined || values.audience === undefined || values["jwks-url"] === undefined
      ? { kind: "dev" }
      : {
          kind: "external",
          issuer: values.issuer,
          audience: values.audience,
          jwksUrl: values["jwks-url"],
          algorithms: values.algorithms?.split(",").map((a) => a.trim()),
        },
});
console.log(`listening on ${server.url}`);
console.log(`browser page: open ${server.url}/ in a browser`);
if (server.devIssuer !== undefined) {
  const token = await server.devIssuer.mint({ subject: "dev-user", scopes: ["greet", "admin"], ttlSeconds: 3600 });
  console.log(`development issuer: ${server.devIssuer.issuer} (JWKS at ${server.devIssuer.discovery["jwks_uri"]})`);
  console.log(`a token with scopes "greet admin", valid 1 hour:\n${token}`);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
