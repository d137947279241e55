import { joseCodeOf } from "./jose-errors.js";
import { KeySourceUnavailableError } from "./key-lookup-errors.js";

/**
 * @internal The fixed word that names why a remote key source has no usable keys, for its status
 * (`lastError`): never a URL, a status text or a message of the error.
 *
 * - `"timeout"`: the JWKS or discovery request took longer than `timeoutDuration`;
 * - `"network"`: the request failed before any answer (refused, reset, DNS);
 * - `"http_status"`: the JWKS answer was not `200 OK` (a redirect included: none is followed);
 * - `"invalid_jwks"`: the JWKS answer was not JSON, or not a JSON Web Key Set;
 * - `"no_keys"`: a valid JWKS without any key;
 * - `"discovery"`: the discovery document could not be read, or does not match the issuer.
 *
 * ```ts
 * const fault: KeySourceFault = "timeout";
 * ```
 */
export type KeySourceFault = "timeout" | "network" | "http_status" | "invalid_jwks" | "no_keys" | "discovery";

/**
 * @internal The fault of a failed JWKS fetch of jose's remote key set (`createRemoteJWKSet`), read from
 * jose's error codes: its timeout, its generic error (a status that is not 200, or with a `cause`: a
 * body that is not JSON), an invalid set; an error that is not jose's comes from `fetch` itself.
 *
 * ```ts
 * jwksFaultOf(new errors.JWKSTimeout()); // "timeout"
 * ```
 *
 * Not checked: anything of the error beyond its code and whether it has a cause.
 */
export function jwksFaultOf(error: unknown): KeySourceFault {
  const tagged = taggedFault(error);
  if (tagged !== undefined) return tagged;
  switch (joseCodeOf(error)) {
    case "ERR_JWKS_TIMEOUT":
      return "timeout";
    case "ERR_JOSE_GENERIC":
      return (error as { cause?: unknown }).cause === undefined ? "http_status" : "invalid_jwks";
    case undefined:
      return isTimeout(error) ? "timeout" : "network";
    default:
      return "invalid_jwks";
  }
}

/**
 * @internal The fault of a failed discovery: what {@link fetchFailed} tagged (the request itself), and
 * `"discovery"` for anything else (a status, a document that is invalid or names another issuer).
 *
 * ```ts
 * discoveryFaultOf(new KeySourceUnavailableError("the discovery document does not match the issuer")); // "discovery"
 * ```
 *
 * Not checked: the error's message.
 */
export function discoveryFaultOf(error: unknown): KeySourceFault {
  return taggedFault(error) ?? "discovery";
}

/** @internal A key source outage that knows its fault: thrown by {@link fetchFailed}. Carries no cause. */
export class KeySourceFetchError extends KeySourceUnavailableError {
  override name = "KeySourceFetchError";
  constructor(readonly fault: KeySourceFault) {
    super(`the key source request failed (${fault})`);
  }
}

/**
 * @internal The error of a `fetch` made by a key source (not jose's), as a {@link KeySourceFetchError}:
 * `"timeout"` for an aborted `AbortSignal.timeout`, `"network"` for anything else. The original error
 * is dropped: it may name the URL.
 *
 * ```ts
 * const response = await discoveryRequest(url, options).catch(fetchFailed);
 * ```
 */
export function fetchFailed(error: unknown): never {
  throw new KeySourceFetchError(isTimeout(error) ? "timeout" : "network");
}

function taggedFault(error: unknown): KeySourceFault | undefined {
  return error instanceof KeySourceFetchError ? error.fault : undefined;
}

function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "TimeoutError";
}
