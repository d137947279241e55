// npm run serve -- [--port N] [--host H] [--issuer I --audience A --jwks-url U [--algorithms ES256,RS256]]
//                  [--dpop required|allowed [--dpop-nonce] [--dpop-nonce-secret S]] [--clock-tolerance S]
//                  [--redis redis://HOST:PORT [--revocation-staleness S]]
// Starts the Greeter server alone. Without issuer flags it runs the embedded development issuer and
// prints a token to call it with. The flags are read by serve-flags.ts; a bad one exits 2.
import { redactedRedisUrl } from "./redis-fleet.js";
import { readServeFlags } from "./serve-flags.js";
import { startExampleServer } from "./server.js";

const flags = readServeFlags(process.argv.slice(2));
if ("error" in flags) {
  console.error(`npm run serve: ${flags.error}`);
  process.exit(2);
}

let server;
try {
  server = await startExampleServer({ webPage: true, ...flags.options });
} catch (e) {
  // The authenticator's option checks (TypeError) are usage errors too; anything else is a crash.
  if (!(e instanceof TypeError)) throw e;
  console.error(`npm run serve: ${e.message}`);
  process.exit(2);
}
console.log(`listening on ${server.url}`);
console.log(`browser page: open ${server.url}/ in a browser`);
console.log(`health: grpc.health.v1.Health/Check at ${server.url} (public; SERVING once keys and revocations are ready)`);
if (flags.options.redis !== undefined) {
  console.log(
    `fleet: revocations${server.dpop === "off" ? "" : " and DPoP proofs"} shared through Redis at ${redactedRedisUrl(flags.options.redis.url)}`,
  );
}
if (server.dpop !== "off") {
  console.log(
    `DPoP ${server.dpop}${flags.nonce}: tokens bound to a key (cnf.jkt) go as "Authorization: DPoP" with a proof per call`,
  );
}
if (server.devIssuer !== undefined) {
  console.log(`development issuer: ${server.devIssuer.issuer} (JWKS at ${server.devIssuer.discovery["jwks_uri"]})`);
  if (server.dpop === "required") {
    // A bearer token would be refused (dpop_required): the page mints tokens bound to its own key.
    console.log(`tokens bound to your key: GET ${server.url}/demo/tokens?jkt=<your key's JWK thumbprint>`);
  } else {
    const token = await server.devIssuer.mint({ subject: "dev-user", scopes: ["greet", "admin"], ttlSeconds: 3600 });
    console.log(`a bearer token with scopes "greet admin", valid 1 hour:\n${token}`);
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
