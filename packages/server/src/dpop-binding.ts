import { Reason, dpopHeader } from "@connectauth/core";
import {
  type AuthCall,
  type AuthOutcome,
  type AuthenticatorChallenge,
  type PresentedCredentials,
  accepted,
  rejected,
} from "./authenticator.js";
import type { AuthChallenge } from "./denial.js";
import { type DpopNonceOptions, createDpopNonces } from "./dpop-nonce.js";
import { type DpopProofVerifier, createDpopProofVerifier } from "./dpop-proof.js";
import { headerValueCountKey } from "./protocol.js";
import { type ReplayStore, createMemoryReplayStore } from "./replay-store.js";

/**
 * How a JWT authenticator takes DPoP-bound tokens (RFC 9449): `"required"`, only as
 * `Authorization: DPoP <token>` with a proof; `"allowed"`, as DPoP or as `Bearer` (a token bound to a
 * key, with `cnf.jkt`, only as DPoP).
 *
 * ```ts
 * createJwtAuthenticator({ ...options, dpop: "required" });
 * ```
 *
 * Not checked: anything by itself; see {@link DpopOptions}.
 */
export type DpopMode = "required" | "allowed";

/**
 * The `dpop` option of `createJwtAuthenticator` and `createMultiIssuerJwtAuthenticator`, when more than
 * the mode is set. Off by default.
 *
 * ```ts
 * const jwt = createJwtAuthenticator({
 *   ...options,
 *   dpop: {
 *     mode: "required",
 *     algorithms: ["ES256", "EdDSA"],
 *     nonce: { secret: process.env.DPOP_NONCE_SECRET!, rotationSeconds: 300 }, // the same on every server
 *     replayStore: sharedReplayStore, // one for the fleet; default: in this process's memory
 *     publicOrigin: "https://api.example.com", // behind a proxy: what htu names
 *   },
 * });
 * ```
 *
 * Not checked: that the replay store is shared by every server that takes the same tokens (a proof
 * replayed to another server with its own memory store is accepted there once), nor that the nonce
 * secret is random (use 32 random bytes).
 */
export interface DpopOptions {
  readonly mode: DpopMode;
  /**
   * The proof algorithms accepted (asymmetric only), also the `algs` of the `DPoP` challenge. Default
   * `["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"]`.
   */
  readonly algorithms?: readonly string[];
  /**
   * How far a proof's `iat` may be from now, in seconds, on either side; the token issuer's
   * `clockToleranceSeconds` is added to it (60 + 30 by default). Default 60.
   */
  readonly iatWindowSeconds?: number;
  /**
   * Where the proofs' `jti`s are recorded, so that each is accepted once (RFC 9449 §11.1). Default: a
   * store in memory (`createMemoryReplayStore`), for one process. One that does not answer refuses the
   * call (`REPLAY_STORE_UNAVAILABLE`).
   */
  readonly replayStore?: ReplayStore;
  /**
   * Server nonces (RFC 9449 §8): proofs must carry the current nonce (or the previous one), else the
   * call is refused with `USE_DPOP_NONCE` and the nonce to use in the `DPoP-Nonce` response header.
   * Stateless: every server given the same `secret` (at least 32 bytes) issues and takes the same
   * nonces. Default: no nonce.
   */
  readonly nonce?: Omit<DpopNonceOptions, "now">;
  /**
   * This server's public origin (`"https://api.example.com"`) when it sits behind a proxy: a proof's
   * `htu` is compared with it and the path received, instead of the URL the server received.
   */
  readonly publicOrigin?: string;
}

/**
 * @internal The DPoP checks of a token authenticator, around its verification of the token: first
 * {@link DpopBinding.present} (the scheme, and exactly one proof), then the token, then
 * {@link DpopBinding.bind} (the proof, and the token's `cnf.jkt` against its key).
 *
 * ```ts
 * const presented = binding.present(credentials, call);
 * if ("ok" in presented) return presented;
 * return binding.bind(await verifyToken(credentials.value), presented);
 * ```
 *
 * Not checked here: the token (the authenticator verifies it), nor the proof itself (the proof verifier).
 */
export interface DpopBinding {
  readonly mode: DpopMode;
  /** What the authenticator asks for: `DPoP` (required), or `Bearer` and `DPoP` (allowed), with the algorithms. */
  readonly challenge: AuthenticatorChallenge;
  /**
   * Before the token is verified: a bearer token where DPoP is required (`INVALID_TOKEN`,
   * `dpop_required`), and a DPoP call without exactly one `DPoP` header (`INVALID_DPOP_PROOF`,
   * `missing` or `multiple`, counted on the wire when the adapter counts) are refused; otherwise what
   * {@link DpopBinding.bind} needs.
   */
  present(credentials: PresentedCredentials, call: AuthCall | undefined): DpopPresentation | AuthOutcome;
  /**
   * After the token is verified: a bearer token bound to a key is refused (`INVALID_TOKEN`,
   * `dpop_bound`, RFC 9449 §7.1); a DPoP call's proof is checked, then the token's `cnf.jkt` must be
   * the thumbprint of the proof's key (`INVALID_DPOP_PROOF`, `jkt`), and the identity gets its
   * `confirmation`. Every refusal of a DPoP call answers with a `DPoP` challenge.
   */
  bind(outcome: AuthOutcome, presented: DpopPresentation): Promise<AuthOutcome>;
}

/**
 * @internal What {@link DpopBinding.present} read of a call, for {@link DpopBinding.bind}: a bearer
 * call, or a DPoP call with its token, its one proof and the call (method and URL) the proof must name.
 *
 * ```ts
 * const presented: DpopPresentation = { scheme: "dpop", token, proof: call.requestHeader.get("dpop")!, call };
 * ```
 *
 * Not checked: anything of the proof yet.
 */
export type DpopPresentation =
  | { readonly scheme: "bearer" }
  | { readonly scheme: "dpop"; readonly token: string; readonly proof: string; readonly call: AuthCall };

/**
 * @internal What {@link createDpopBinding} takes of its authenticator besides the option: the name for
 * errors, the clock, and the issuers' clock tolerance (seconds), added to the proofs' `iat` window on
 * both sides: one number for every issuer, or one per issuer (the token's `iss` picks it). Default 0.
 *
 * ```ts
 * const context: DpopBindingContext = { what: "createJwtAuthenticator", now: Date.now, clockToleranceSeconds: 30 };
 * ```
 *
 * Not checked here: the tolerances (the issuers' options checked them); an issuer missing from the
 * map gets the smallest tolerance of the map.
 */
export interface DpopBindingContext {
  readonly what: string;
  readonly now: () => number;
  readonly clockToleranceSeconds?: number | ReadonlyMap<string, number>;
}

/**
 * @internal The DPoP binding of an authenticator's `dpop` option, checked at construction;
 * `undefined` when DPoP is off (the option absent). A proof's `iat` may be `iatWindowSeconds` plus the
 * token issuer's clock tolerance away from now; one replay store (the option's, or one in memory) and
 * one nonce source serve every issuer.
 *
 * ```ts
 * const binding = createDpopBinding(options.dpop, { what: "createJwtAuthenticator", now: Date.now, clockToleranceSeconds: 30 });
 * ```
 *
 * Not checked: the replay store and nonces at run time (a store that fails refuses the call).
 *
 * @throws TypeError naming `what` on a mode other than `"required"` and `"allowed"`, or a bad
 * algorithm, window, replay store, nonce secret or rotation, or public origin.
 */
export function createDpopBinding(
  option: DpopMode | DpopOptions | undefined,
  context: DpopBindingContext,
): DpopBinding | undefined {
  if (option === undefined) return undefined;
  const { what, now } = context;
  const options: DpopOptions | undefined = typeof option === "string" ? { mode: option } : option;
  const mode = typeof options === "object" && options !== null ? options.mode : undefined;
  if (mode !== "required" && mode !== "allowed") {
    throw new TypeError(`${what}: dpop must be "required", "allowed" or { mode: "required" | "allowed", … }`);
  }
  const { nonce } = options;
  if (nonce !== undefined && (typeof nonce !== "object" || nonce === null)) {
    throw new TypeError(`${what}: dpop.nonce must be { secret, rotationSeconds? }`);
  }
  const nonces = nonce === undefined ? undefined : named(`${what}: dpop.nonce`, () => createDpopNonces({ ...nonce, now }));
  // One store for every verifier: a proof replayed under another issuer's tolerance is still a replay.
  const replayStore = options.replayStore ?? createMemoryReplayStore({ now });
  const tolerance = context.clockToleranceSeconds ?? 0;
  const perIssuer = typeof tolerance === "number" ? undefined : tolerance;
  const verifiers = new Map<number, DpopProofVerifier>();
  for (const seconds of perIssuer === undefined ? [tolerance as number] : new Set(perIssuer.values())) {
    const verifier = named(`${what}: dpop`, () =>
      createDpopProofVerifier({
        algorithms: options.algorithms,
        iatWindowSeconds: options.iatWindowSeconds,
        clockToleranceSeconds: seconds,
        replayStore,
        nonces,
        publicOrigin: options.publicOrigin,
        now,
      }),
    );
    verifiers.set(seconds, verifier);
  }
  const [first] = verifiers.values();
  if (first === undefined) throw new TypeError(`${what}: dpop needs at least one issuer`);
  // The smallest tolerance for an issuer without one of its own (none: the token's iss is a configured issuer).
  const strictest = verifiers.get(Math.min(...verifiers.keys())) as DpopProofVerifier;
  const verifierFor =
    perIssuer === undefined ? () => first : (issuer: string) => verifiers.get(perIssuer.get(issuer) as number) ?? strictest;
  return bindingOf(mode, first.algorithms, verifierFor);
}

function bindingOf(
  mode: DpopMode,
  dpopAlgorithms: readonly string[],
  verifierFor: (issuer: string) => DpopProofVerifier,
): DpopBinding {
  const dpop: AuthChallenge = { schemes: ["DPoP"], dpopAlgorithms };
  const refuse = (reason: Reason, detail: string, message: string, challenge = dpop) =>
    rejected(reason, { message, detail, challenge });
  const proofRefusal = (detail: "missing" | "multiple", message: string) => refuse(Reason.InvalidDpopProof, detail, message);

  return {
    mode,
    challenge: { schemes: mode === "required" ? ["DPoP"] : ["Bearer", "DPoP"], dpopAlgorithms },
    present(credentials, call) {
      if (credentials.scheme !== "dpop") {
        if (mode === "allowed") return { scheme: "bearer" };
        return refuse(Reason.InvalidToken, "dpop_required", "this server takes tokens only with DPoP (Authorization: DPoP)");
      }
      const header = call?.requestHeader.get(dpopHeader) ?? null;
      const count = call?.values.get(headerValueCountKey)?.(dpopHeader);
      // A proof is a compact JWS, which has no comma: one in the value is two headers joined.
      if ((count !== undefined && count > 1) || header?.includes(",")) {
        return proofRefusal("multiple", "more than one DPoP proof was sent");
      }
      const proof = header?.trim() ?? "";
      if (call === undefined || proof === "") {
        return proofRefusal("missing", "a DPoP-bound token needs one DPoP proof header");
      }
      return { scheme: "dpop", token: credentials.value, proof, call };
    },
    async bind(outcome, presented) {
      if (presented.scheme === "bearer") {
        if (!outcome.ok || confirmationOf(outcome.identity.claims) === undefined) return outcome;
        return refuse(Reason.InvalidToken, "dpop_bound", "the token is bound to a key: send it with DPoP (RFC 9449)");
      }
      if (!outcome.ok) return { ...outcome, challenge: dpop };
      const { identity } = outcome;
      const iss = identity.claims["iss"];
      const issuer = typeof iss === "string" ? iss : "";
      const { token, proof, call } = presented;
      const result = await verifierFor(issuer).verify({
        proof,
        httpMethod: call.requestMethod,
        url: call.url,
        accessToken: token,
        scope: issuer,
      });
      if (!result.ok) {
        const challenge = result.nonce === undefined ? dpop : { ...dpop, dpopNonce: result.nonce };
        return refuse(result.reason, result.detail, result.message, challenge);
      }
      const jkt = confirmationOf(identity.claims);
      if (jkt !== result.jkt) {
        return refuse(Reason.InvalidDpopProof, "jkt", "the token is not bound to the key of the DPoP proof");
      }
      return accepted({ ...identity, confirmation: { jkt } });
    },
  };
}

/**
 * The token's `cnf.jkt` (RFC 9449 §6.1): a string, or `null` for a `jkt` of another type (which binds
 * the token all the same, to no key a proof can have), `undefined` for none.
 */
function confirmationOf(claims: Readonly<Record<string, unknown>>): string | null | undefined {
  const cnf = claims["cnf"];
  if (typeof cnf !== "object" || cnf === null || !Object.hasOwn(cnf, "jkt")) return undefined;
  const jkt: unknown = (cnf as Record<string, unknown>)["jkt"];
  return typeof jkt === "string" ? jkt : null;
}

/** Runs a factory of the DPoP parts, its TypeErrors named for the authenticator's option (`prefix`). */
function named<T>(prefix: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(`${prefix}: ${error.message.replace(/^create\w+: /, "")}`);
  }
}
