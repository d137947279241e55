import type { ContextValues } from "@connectrpc/connect";
import type { ChallengeScheme, Credentials, Reason } from "@connectauth/core";
import type { AuthenticatorStatus } from "./auth-readiness.js";
import { type AuthChallenge, type Denial, fault } from "./denial.js";
import type { AuthIdentity } from "./identity.js";

/**
 * What an authenticator decided of one credential: accepted with an identity, or rejected with a
 * reason. Rejections are values, not exceptions: the gate turns them into the contract's errors (code,
 * `ErrorInfo`, challenge) in one place.
 */
export type AuthOutcome =
  | { readonly ok: true; readonly identity: AuthIdentity }
  | {
      readonly ok: false;
      readonly reason: Reason;
      /** For humans. Must not hold the credential or anything read from it. */
      readonly message?: string;
      /** A stable, secret-free word for diagnosis, sent as `ErrorInfo.metadata.detail` (e.g. `"unknown_key"`). */
      readonly detail?: string;
      /** The challenge to answer with (schemes, DPoP algorithms and nonce). Default: `Bearer`. */
      readonly challenge?: AuthChallenge;
    };

/**
 * One credential as an authenticator receives it: from the `Authorization` header (`scheme` lowercase,
 * `header` `"authorization"`), the whole value of another request header the authenticator named in
 * {@link Authenticator.headers} (`scheme` `""`, `header` that header's name, lowercase), or what its
 * {@link Authenticator.extract} returned (`scheme` `""`, no `header`).
 */
export interface PresentedCredentials extends Credentials {
  /** The request header the credential came from, lowercase. Absent when built by hand (then `authorization`). */
  readonly header?: string;
}

/**
 * Checks one kind of credential. Implement it for your own credentials (opaque-token introspection,
 * session cookies); connectauth ships JWT ({@link createJwtAuthenticator}).
 *
 * An outage of what the authenticator depends on (a key server, an introspection endpoint) must be
 * answered with `Reason.KeysUnavailable`, never with a token reason: clients refresh their token on
 * token reasons, which cannot help. An exception thrown by `authenticate`, `extract` or
 * `authenticateConnection` becomes `Internal`, without the exception as its cause.
 *
 * ```ts
 * const sessions: Authenticator = {
 *   name: "session",
 *   schemes: ["session"],
 *   async authenticate({ value }) {
 *     const s = await store.get(value);
 *     return s ? accepted({ subject: s.user, scopes: new Set(s.scopes), claims: {}, authenticator: "session" })
 *              : rejected(Reason.InvalidToken, { message: "unknown session" });
 *   },
 * };
 * ```
 */
export interface Authenticator {
  /** Names the authenticator in identities, decision events and `ErrorInfo.metadata.authenticator`. */
  readonly name: string;
  /** The `Authorization` schemes it takes, lowercase (e.g. `["bearer"]`); may be empty. */
  readonly schemes: readonly string[];
  /**
   * What it asks for when a call comes without a usable credential: the challenge schemes, and the
   * proof algorithms of a `DPoP` challenge. Optional; without it, an authenticator that takes the
   * `bearer` scheme asks for `Bearer` and one that takes `dpop` for `DPoP`. The server answers such a
   * call (`MISSING_CREDENTIALS`, `MALFORMED_CREDENTIALS`, `MULTIPLE_CREDENTIALS`) with the union of what
   * its authenticators ask for.
   */
  readonly challenge?: AuthenticatorChallenge;
  /**
   * Request headers other than `Authorization` whose whole value is a credential for it, lowercase
   * (e.g. `["x-api-key"]`). Optional. A request carrying credentials in two places (an `Authorization`
   * header and one of these, or two of these) is refused as `MULTIPLE_CREDENTIALS` before any
   * authenticator runs.
   */
  readonly headers?: readonly string[];
  /**
   * Reads the authenticator's credential from the request headers itself, for credentials that are
   * not a whole header value (a session cookie among other cookies). Returns `undefined` when the
   * request carries none; throws `createAuthError(Reason.MalformedCredentials)` for one that is
   * present but unreadable. Optional. A credential found here counts as one more place for
   * `MULTIPLE_CREDENTIALS`, like {@link Authenticator.headers}.
   *
   * ```ts
   * extract: (headers) => /(?:^|;\s*)session=([^;]+)/.exec(headers.get("cookie") ?? "")?.[1],
   * ```
   */
  readonly extract?: (headers: Headers) => string | undefined;
  /** Decides on one credential. The credential is secret: never log it or put it in the outcome. */
  authenticate(credentials: PresentedCredentials, call?: AuthCall): Promise<AuthOutcome>;
  /**
   * Optional: decides on a credential carried by the connection rather than the `Authorization` header,
   * such as a TLS client certificate put in the context values by a `contextValues` hook (see
   * `@connectauth/node`). Called, in the order of the authenticators, only when the request has no
   * `Authorization` header; the first answer other than `undefined` decides. `undefined` means "no such
   * credential here", so a public method stays anonymous and any other is `MISSING_CREDENTIALS`.
   */
  authenticateConnection?(call: AuthCall): Promise<AuthOutcome | undefined>;
  /**
   * Optional: whether an identity it accepted still holds now, for a stream that stays open after it
   * was admitted (`createServerAuth` asks about once a second per open stream): `undefined` when it
   * does, or the rejection that ends the stream (e.g. `rejected(Reason.InvalidToken, { detail:
   * "revoked" })`). Synchronous and local: no network per call (read a list kept in memory). A throw
   * ends the stream as `Internal`. Expiry (`claims.exp`) is checked by the server itself; this need not.
   *
   * ```ts
   * revalidate: (identity) => (revoked.has(identity.subject) ? rejected(Reason.InvalidToken, { detail: "revoked" }) : undefined),
   * ```
   */
  revalidate?(identity: AuthIdentity): AuthOutcome | undefined;
  /**
   * Optional: what it depends on (its keys) as a readiness status; `createServerAuth`'s `ready()`,
   * `status()` and `readiness` (for the health service) are built over the authenticators that have it.
   * Must be cheap: it is read on every health check.
   */
  status?(): AuthenticatorStatus;
  /** Optional: fetches what it depends on now (`auth.ready()` calls it). Resolves once the attempt ends. */
  prefetch?(): Promise<void>;
  /** Optional: calls `listener` when its {@link Authenticator.status} changes; returns the unsubscribe. */
  onStatusChange?(listener: () => void): () => void;
}

/**
 * What an {@link Authenticator} asks for in its challenges.
 *
 * ```ts
 * const challenge: AuthenticatorChallenge = { schemes: ["Bearer", "DPoP"], dpopAlgorithms: ["ES256", "EdDSA"] };
 * ```
 *
 * Not checked: that the authenticator takes those schemes.
 */
export interface AuthenticatorChallenge {
  readonly schemes: readonly ChallengeScheme[];
  /** The `algs` of its `DPoP` challenge: the proof algorithms it accepts. */
  readonly dpopAlgorithms?: readonly string[];
}

/**
 * What an authenticator may read of the call besides the credential: the context values (filled by the
 * adapter's `contextValues` hook, e.g. with the TLS peer certificate), the request headers, and the
 * HTTP method and URL the server received (what a DPoP proof's `htm` and `htu` are checked against).
 */
export interface AuthCall {
  readonly values: ContextValues;
  readonly requestHeader: Headers;
  /** The HTTP method of the request, e.g. `"POST"` (`"GET"` for a Connect GET). */
  readonly requestMethod: string;
  /** The URL the server received, e.g. `"http://127.0.0.1:8080/example.v1.GreeterService/Greet"`. */
  readonly url: string;
}

/** An accepting {@link AuthOutcome}. */
export function accepted(identity: AuthIdentity): AuthOutcome {
  return { ok: true, identity };
}

/**
 * A rejecting {@link AuthOutcome}: the reason, and optionally a message, a `detail` word and the
 * challenge to answer with.
 *
 * ```ts
 * return rejected(Reason.InvalidToken, { message: "unknown session", detail: "unknown" });
 * ```
 */
export function rejected(
  reason: Reason,
  options: { message?: string; detail?: string; challenge?: AuthChallenge } = {},
): AuthOutcome {
  return { ok: false, reason, ...options };
}

/**
 * @internal What an exception from an authenticator's own code (`authenticate`, `extract`,
 * `authenticateConnection`) becomes: a fault (`Internal`) naming the authenticator, deliberately
 * without the exception, whose text may hold the credential.
 */
export function authenticatorFault(authenticator: Authenticator): Denial {
  return fault(`authenticator "${authenticator.name}" failed`);
}
