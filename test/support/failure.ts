// How a suite awaits a refused call: with assert.rejects, and what the caller can read of the refusal.
//
//   const f = await failure(client.greet({}));
//   assert.equal(f.failure?.reason, "MISSING_CREDENTIALS");
import assert from "node:assert/strict";
import { type Code, ConnectError } from "@connectrpc/connect";
import { type AuthFailure, readAuthFailure } from "@connectauth/core";

/** What the caller of a refused call sees. */
export interface Refusal {
  readonly error: ConnectError;
  readonly code: Code;
  /** connectauth's reading of the error (reason, metadata, required scopes, challenge); `undefined` without its `ErrorInfo`. */
  readonly failure: AuthFailure | undefined;
  /** The `WWW-Authenticate` value as received (response header or trailer), or `null`. */
  readonly wwwAuthenticate: string | null;
}

/**
 * Awaits a call that must fail with a `ConnectError` (fails the test if it succeeds, or rejects with
 * anything else) and returns what its caller can see of it.
 */
export async function failure(call: Promise<unknown>, message = "expected the call to fail"): Promise<Refusal> {
  let error: unknown;
  await assert.rejects(
    call,
    (e: unknown) => {
      error = e;
      return true;
    },
    message,
  );
  assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${String(error)}`);
  return {
    error,
    code: error.code,
    failure: readAuthFailure(error),
    wwwAuthenticate: error.metadata.get("www-authenticate"),
  };
}
