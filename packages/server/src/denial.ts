import { Code, ConnectError } from "@connectrpc/connect";
import { type ChallengeScheme, type Reason, createAuthError } from "@connectauth/core";
import { codeOf } from "@connectauth/core/protocol";

/**
 * Why the server refuses a call, as a value. Every check of the server path returns one instead of
 * throwing, so that the decision event is built from what was decided; it becomes the contract's
 * `ConnectError` in one place ({@link toConnectError}), at the edge where Connect needs it.
 */
export interface Denial {
  /**
   * The contract's reason; `undefined` for a fault rather than a decision: user code that threw, or a
   * setup that cannot enforce the method's rule. Faults are `Internal`, with no cause.
   */
  readonly reason: Reason | undefined;
  /** For humans. Never holds the credential nor anything read from it. */
  readonly message?: string;
  /** `ErrorInfo.metadata`: fixed words such as `detail` and `authenticator`, never token text. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The scopes the method needs: the challenge's `scope` and `ErrorInfo.metadata.required_scopes`. */
  readonly requiredScopes?: readonly string[];
  /** How the challenge is made: its schemes, DPoP algorithms and nonce. Default: a `Bearer` challenge. */
  readonly challenge?: AuthChallenge;
}

/**
 * The challenge of a refusal, as `createAuthError` of `@connectauth/core` takes it: the schemes to
 * answer with (default `["Bearer"]`), the `algs` of a `DPoP` challenge, and a fresh DPoP nonce for the
 * `DPoP-Nonce` response header.
 *
 * ```ts
 * rejected(Reason.InvalidToken, { detail: "dpop_bound", challenge: { schemes: ["DPoP"], dpopAlgorithms: ["ES256"] } });
 * ```
 *
 * Not checked: that the reason has a challenge at all (`INVALID_API_KEY` and the outages have none, and
 * then only the nonce is sent); the DPoP proof reasons always answer with `DPoP` alone.
 */
export interface AuthChallenge {
  readonly schemes?: readonly ChallengeScheme[];
  readonly dpopAlgorithms?: readonly string[];
  readonly dpopNonce?: string;
}

/** A {@link Denial} for one of the contract's reasons. */
export function deny(reason: Reason, options: Omit<Denial, "reason"> = {}): Denial {
  return { reason, ...options };
}

/** A {@link Denial} that is a fault of the setup or of user code: `Internal`, with `message` only. */
export function fault(message: string): Denial {
  return { reason: undefined, message };
}

/** The Connect code a denial is answered with. */
export function codeOfDenial(denial: Denial): Code {
  return denial.reason === undefined ? Code.Internal : codeOf(denial.reason);
}

/**
 * The `ConnectError` of a denial: for a reason, the contract's code, `ErrorInfo` and challenge
 * (`createAuthError`, with the denial's {@link AuthChallenge}); for a fault, `Internal` with the
 * message and nothing else.
 */
export function toConnectError(denial: Denial, realm: string | undefined): ConnectError {
  if (denial.reason === undefined) {
    return new ConnectError(denial.message ?? "connectauth failed", Code.Internal);
  }
  return createAuthError(denial.reason, {
    realm,
    message: denial.message,
    metadata: denial.metadata,
    requiredScopes: denial.requiredScopes,
    schemes: denial.challenge?.schemes,
    dpopAlgorithms: denial.challenge?.dpopAlgorithms,
    dpopNonce: denial.challenge?.dpopNonce,
  });
}
