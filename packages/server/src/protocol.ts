// Plumbing between connectauth's own packages (like `@connectrpc/connect/protocol`): not for apps.
import { createContextKey } from "@connectrpc/connect";

/**
 * How many times the request carried the header `name` (lowercase) on the wire, for runtimes whose
 * `Headers` hide it: Node keeps only the first of two `Authorization` headers (HTTP/1.1 by default, and
 * HTTP/2 always) and joins two values of other headers with `", "`, so connect's `Headers` cannot tell
 * two credentials from one. `@connectauth/node`'s `contextValues` hook sets it from the raw headers;
 * the server refuses `MULTIPLE_CREDENTIALS` when a credential header (`authorization`, or one an
 * authenticator names) came more than once. `undefined` (the default) when the runtime cannot count:
 * then only what `Headers` shows is judged.
 *
 * ```ts
 * const count = ctx.values.get(headerValueCountKey);
 * if (count !== undefined && count("authorization") > 1) refuse();
 * ```
 *
 * Not checked here: that the function counts what was really sent; it is trusted as the adapter's
 * word, so it must come from the request itself (never from a client-controlled value).
 */
export const headerValueCountKey = createContextKey<((name: string) => number) | undefined>(undefined, {
  description: "connectauth header value count",
});

/**
 * Compiles a rule's CEL condition as the server does, for tools that check rules ahead of time
 * (`connectauth audit`). Throws `TypeError` naming the method when it does not compile.
 */
export { compileCondition } from "./condition.js";

/**
 * The revocation list in memory, and what a list shared by a fleet builds on (`@connectauth/node/redis`
 * mirrors Redis in one): a revocation checked and filled in alike on every instance, and when it may be
 * forgotten. Apps take `createMemoryRevocationList` and the types from `@connectauth/server`.
 */
export {
  createMemoryRevocationList,
  normalizeRevocation,
  revocationEndMs,
  type MemoryRevocationListOptions,
  type Revocation,
  type RevocationList,
  type RevocationListStatus,
  type RevocationSubject,
} from "./revocation-list.js";

/**
 * The checks of one DPoP proof (RFC 9449 §4.3), for a server of ours that takes proofs outside the
 * authenticators: the development issuer's token endpoint (`@connectauth/node/dev`), whose proofs carry
 * no access token. Apps set `dpop` on a JWT authenticator instead.
 */
export {
  createDpopProofVerifier,
  type DpopProofOptions,
  type DpopProofInput,
  type DpopProofResult,
  type DpopProofVerifier,
} from "./dpop-proof.js";

/**
 * The `connectauth-readiness` header of a health Check (`createHealthService`): why the server is (not)
 * ready, in fixed words, and its reader, for `connectauth doctor`.
 */
export { parseReadinessHeader, readinessHeader, type ReadinessItem } from "./readiness-header.js";
