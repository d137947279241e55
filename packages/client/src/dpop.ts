// The `@connectauth/client/dpop` entry point: DPoP proofs (RFC 9449) signed by jose, apart from the main
// entry so that an app that sends bearer tokens does not bundle them.
export {
  createDpopProver,
  type DpopProver,
  type DpopProverOptions,
  type DpopProofRequest,
  type DpopNext,
} from "./dpop-prover.js";
export { type DpopAlgorithm, dpopAlgorithmOf } from "./dpop-algorithm.js";
export { isDpopNonce } from "./dpop-nonce.js";
