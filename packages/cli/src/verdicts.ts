// The verdicts of `connectauth doctor`: their stable ids, and the shape of the tables that choose one
// (transport-verdicts.ts before the call, health-verdicts.ts of the health Check before it, call-verdicts.ts
// after it). Each row of a table is a verdict,
// the condition under which it applies and what it says; the tables are pure (no I/O, no clock), and
// diagnose.ts is the walk that gathers the facts they judge.

/**
 * The verdicts of `connectauth doctor`, stable identifiers of `--json` output. Each names one cause.
 *
 * ```ts
 * if (!verdicts.includes(json.verdict.id)) throw new Error("a doctor newer than this script");
 * ```
 */
export const verdicts = [
  "ok",
  "server_unreachable",
  "tls_to_plaintext",
  "plaintext_to_tls",
  "certificate_error",
  "http_version_mismatch",
  "server_not_ready",
  "missing_credentials",
  "credentials_dropped",
  "malformed_credentials",
  "multiple_credentials",
  "token_expired",
  "token_not_yet_valid",
  "invalid_audience",
  "invalid_issuer",
  "unknown_key",
  "invalid_token",
  "insufficient_scope",
  "claims_rejected",
  "invalid_api_key",
  "invalid_client_certificate",
  "keys_unavailable",
  "invalid_dpop_proof",
  "use_dpop_nonce",
  "revocation_unavailable",
  "replay_store_unavailable",
  "method_not_found",
  "auth_failure_without_details",
  "call_failed",
] as const;
/** One of {@link verdicts}. */
export type VerdictId = (typeof verdicts)[number];

/** A verdict without its `ok` flag: which one, what is wrong, and the fix. */
export interface Verdict {
  readonly id: VerdictId;
  /** One sentence: what is wrong (or, for `ok`, what passed). */
  readonly summary: string;
  /** The concrete fix. Empty for `ok`. */
  readonly fix: string;
}

/** One row: the verdict and what it says of the situation. */
export interface Row<S> {
  readonly id: VerdictId;
  readonly says: (s: S) => { readonly summary: string; readonly fix: string };
}
/** A row that applies only when its condition holds. */
export interface Case<S> extends Row<S> {
  readonly when: (s: S) => boolean;
}
/** The first case that holds, else `otherwise`. */
export interface Choice<S> {
  readonly cases: readonly Case<S>[];
  readonly otherwise: Row<S>;
}

/**
 * The verdict of the first case that holds, or `undefined` when none does.
 *
 * ```ts
 * firstVerdict(transportCases, situation)?.id; // "tls_to_plaintext"
 * ```
 */
export function firstVerdict<S>(cases: readonly Case<S>[], s: S): Verdict | undefined {
  const row = cases.find((c) => c.when(s));
  return row === undefined ? undefined : says(row, s);
}

/**
 * The verdict of the first case of a choice that holds, else of its `otherwise` row.
 *
 * ```ts
 * choose(failures[call.reason], situation).id; // "unknown_key"
 * ```
 */
export function choose<S>(choice: Choice<S>, s: S): Verdict {
  return firstVerdict(choice.cases, s) ?? says(choice.otherwise, s);
}

function says<S>(row: Row<S>, s: S): Verdict {
  return { id: row.id, ...row.says(s) };
}
