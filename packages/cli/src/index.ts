export { run, commands } from "./run.js";
export type { Command, CommandGroup, CommandIo } from "./command.js";
export { diagnose, type DiagnoseOptions, type Diagnosis } from "./diagnose.js";
export { verdicts, type VerdictId } from "./verdicts.js";
export type { CallOutcome } from "./call-outcome.js";
export { tokenFacts, type TokenFacts } from "./token-facts.js";
export { probeTransport, type ProbeOptions, type TransportFacts } from "./transport-probe.js";
export { rawUnaryCall, protocols, type Protocol, type RawUnaryCallOptions } from "./raw-call.js";
