import { type Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { type Reason, errorDomain } from "./reason.js";
import type { ClientReason } from "./client-reason.js";

/**
 * @internal The one builder of connectauth's errors: a `ConnectError` with `code`, `message`, the
 * `google.rpc.ErrorInfo` detail (`reason`, domain `connectauth`, `metadata`) and `header` as its
 * metadata. `createAuthError` (the server's reasons) and `clientRefusal` (the client's) call it; apps
 * use those.
 *
 * ```ts
 * errorWithInfo(Code.Unavailable, "TOKEN_UNAVAILABLE", "connectauth got no token", { cause: "timeout" });
 * ```
 *
 * Not checked: that the code is the reason's, and that `message` and `metadata` hold no token (the
 * callers' duty).
 */
export function errorWithInfo(
  code: Code,
  reason: Reason | ClientReason,
  message: string,
  metadata?: Readonly<Record<string, string>>,
  header?: Headers,
): ConnectError {
  return new ConnectError(message, code, header, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: errorDomain, metadata }) },
  ]);
}
