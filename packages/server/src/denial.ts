import { Code, ConnectError } from "@connectrpc/connect";
import { type Reason, createAuthError } from "@connectauth/core";
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
 * (`createAuthError`); for a fault, `Internal` with the message and nothing else.
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
  });
}
