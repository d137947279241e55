export { run, commands } from "./run.js";
export type { Command, CommandGroup, CommandIo } from "./command.js";
export { createDevIssuer, type DevIssuer, type DevIssuerOptions, type MintOptions } from "./dev-issuer.js";
export { startDevServer, devDefaults, type DevServer, type DevServerOptions } from "./dev-server.js";
export { diagnose, verdicts, type VerdictId, type CallOutcome, type DiagnoseOptions, type Diagnosis } from "./diagnose.js";
export { tokenFacts, type TokenFacts } from "./token-facts.js";
export { probeTransport, type ProbeOptions, type TransportFacts } from "./transport-probe.js";
export { rawUnaryCall, protocols, type Protocol, type RawUnaryCallOptions } from "./raw-call.js";
