// The `@connectauth/node/dev` entry point: a development issuer for demos, tests and local servers,
// apart from the main entry so that a production import never loads a token mint.
export {
  createDevIssuer,
  isJwkThumbprint,
  type DevIssuer,
  type DevIssuerOptions,
  type MintOptions,
} from "./dev-issuer.js";
export { startDevServer, devDefaults, type DevServer, type DevServerOptions } from "./dev-server.js";
