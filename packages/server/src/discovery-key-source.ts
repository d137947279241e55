import type { JWTVerifyGetKey } from "jose";
import { allowInsecureRequests, discoveryRequest, processDiscoveryResponse } from "oauth4webapi";
import { KeySourceUnavailableError } from "./key-lookup-errors.js";
import { type FetchedKeySet, type RemoteSet, withOutageFallback } from "./key-outage.js";
import { discoveryFaultOf, fetchFailed } from "./key-source-fault.js";
import { type KeySourceContext, type RemoteKeyOptions, checkKeyUrl, remoteDurations, remoteSet } from "./remote-key-source.js";

/**
 * Keys found by OpenID Connect discovery (`oauth4webapi`): `<issuer>/.well-known/openid-configuration`
 * is fetched once, its `issuer` must equal the configured issuer exactly (not just as a normalized URL),
 * and its `jwks_uri` becomes a remote key set as in `createRemoteKeySource`. A failed discovery is
 * retried after `failureBackoff` ms; meanwhile calls get `KEYS_UNAVAILABLE`. The `jwks_uri` found is
 * kept for the life of the process; a key removed from its set stops being honored through the
 * verified-token cache as with `createRemoteKeySource`.
 *
 * ```ts
 * const keys = createDiscoveryKeySource("https://issuer.example.com/");
 * // the same as createJwtAuthenticator({ issuer: "https://issuer.example.com/", discovery: true, ... })
 * ```
 *
 * Not checked: the rest of the discovery document (only `issuer` and `jwks_uri` are used).
 *
 * @throws TypeError on an issuer that is not a URL, or that is not https (nor http on loopback with
 * `allowInsecureLoopback`), or a duration that is not an integer >= 0.
 */
export function createDiscoveryKeySource(issuer: string, remote: RemoteKeyOptions = {}): JWTVerifyGetKey {
  return discoveryKeySource(issuer, remote, { what: "createDiscoveryKeySource" });
}

/**
 * @internal {@link createDiscoveryKeySource} for our own callers: their name in messages, and the
 * clock of the outage backoff.
 *
 * ```ts
 * discoveryKeySource(issuer, remote, { what: "createJwtAuthenticator" });
 * ```
 *
 * Not checked: anything {@link createDiscoveryKeySource} does not check.
 */
export function discoveryKeySource(issuer: string, remote: RemoteKeyOptions, context: KeySourceContext): JWTVerifyGetKey {
  const { what } = context;
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new TypeError(`${what}: discovery needs the issuer to be a URL`);
  }
  checkKeyUrl(issuerUrl, remote, what);
  const d = remoteDurations(remote, what);
  const insecure = issuerUrl.protocol === "http:";
  const fetched: FetchedKeySet = {};
  let discovered: Promise<RemoteSet> | undefined;
  const discover = async (): Promise<RemoteSet> => {
    const response = await discoveryRequest(issuerUrl, {
      algorithm: "oidc",
      signal: AbortSignal.timeout(d.timeoutDuration),
      ...(insecure ? { [allowInsecureRequests]: true } : {}),
    }).catch(fetchFailed);
    const metadata = await processDiscoveryResponse(issuerUrl, response);
    // oauth4webapi compares normalized URLs; the issuer must be the very string tokens will carry.
    if (metadata.issuer !== issuer || typeof metadata.jwks_uri !== "string") {
      throw new KeySourceUnavailableError("the discovery document does not match the issuer");
    }
    const jwksUrl = new URL(metadata.jwks_uri);
    checkKeyUrl(jwksUrl, remote, what);
    return remoteSet(jwksUrl, d, fetched);
  };
  const getSet = () => {
    discovered ??= discover().catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  };
  return withOutageFallback({
    getSet,
    fetched,
    failureBackoff: d.failureBackoff,
    cacheMaxAge: d.cacheMaxAge,
    now: context.now ?? Date.now,
    setFaultOf: discoveryFaultOf,
  });
}
