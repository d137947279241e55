export { run, commands } from "./run.js";
export type { Command, CommandIo } from "./command.js";
export { createDevIssuer, type DevIssuer, type DevIssuerOptions, type MintOptions } from "./dev-issuer.js";
export { startDevServer, type DevServer, type DevServerOptions } from "./dev-server.js";
export { diagnose, type DiagnoseOptions, type Diagnosis } from "./diagnose.js";
