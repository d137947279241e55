/** Why Redis did not answer as needed, as a fixed word: it did not answer in time, or it answered with an error (or the connection failed). */
export type RedisFault = "timeout" | "error";

/**
 * The rejection of a Redis revocation list's `revoke` when Redis did not acknowledge the write: other
 * instances may not see the revocation (this one refuses the token already). Revoking again is safe.
 * A timeout leaves the write in doubt: it may still land. Carries no cause (a client's error text may
 * name hosts or users).
 *
 * ```ts
 * await revocations.revoke({ issuer, jti }).catch((e) => e.code); // "REVOCATION_NOT_STORED"
 * ```
 *
 * Not checked: anything of the revocation (the error names none of it).
 */
export class RevocationNotStoredError extends Error {
  override name = "RevocationNotStoredError";
  readonly code = "REVOCATION_NOT_STORED";
  constructor(readonly fault: RedisFault) {
    super(`the revocation was not stored: Redis ${fault === "timeout" ? "did not answer in time" : "failed"}`);
  }
}

/**
 * The rejection of a Redis replay store's `add` when Redis did not answer whether the proof was new:
 * the caller refuses the proof (`REPLAY_STORE_UNAVAILABLE`). Carries no cause.
 *
 * ```ts
 * await replayStore.add(key, expiresAtMs).catch((e) => e.code); // "REPLAY_STORE_UNAVAILABLE"
 * ```
 *
 * Not checked: anything of the key (the error names none of it).
 */
export class ReplayStoreUnavailableError extends Error {
  override name = "ReplayStoreUnavailableError";
  readonly code = "REPLAY_STORE_UNAVAILABLE";
  constructor(readonly fault: RedisFault) {
    super(`the replay store cannot answer: Redis ${fault === "timeout" ? "did not answer in time" : "failed"}`);
  }
}
