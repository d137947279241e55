import * as oauth from "oauth4webapi";
import { isLoopbackUrl } from "@connectauth/core";
import { type CachedTokenSource, type CachedTokenSourceOptions, createCachedTokenSource } from "./cached-token-source.js";
import type { ClientAuthEventHandler } from "./client-auth-event.js";
import type { DpopProver } from "./dpop-prover.js";

/** Options of {@link createOAuth2TokenSource}. */
export interface OAuth2TokenSourceOptions
  extends Pick<CachedTokenSourceOptions, "refreshBeforeMs" | "jitterMs" | "backoffMs" | "maxBackoffMs" | "now" | "onEvent"> {
  /** The issuer identifier: its metadata is discovered from it (unless `tokenEndpoint` is given). */
  readonly issuer: string | URL;
  /**
   * Where the metadata is: `"oidc"` (default) at `/.well-known/openid-configuration` (OpenID Connect
   * Discovery), `"oauth2"` at `/.well-known/oauth-authorization-server` (RFC 8414).
   */
  readonly discovery?: "oidc" | "oauth2";
  /** Skip discovery and use this token endpoint. */
  readonly tokenEndpoint?: string | URL;
  readonly clientId: string;
  /** Client secret authentication (`client_secret_basic` by default). */
  readonly clientSecret?: string;
  /** How the secret is sent. Default `"client_secret_basic"`. */
  readonly clientSecretMethod?: "client_secret_basic" | "client_secret_post";
  /** `private_key_jwt` client authentication (RFC 7523) with this asymmetric private key. */
  readonly privateKey?: CryptoKey | { readonly key: CryptoKey; readonly kid?: string };
  /** Default `"client_credentials"`; `{ refreshToken }` for the `refresh_token` grant (rotation is followed). */
  readonly grant?: "client_credentials" | { readonly refreshToken: string };
  /** Scopes to request (`scope`). */
  readonly scopes?: readonly string[];
  /** The audience to request tokens for. */
  readonly audience?: string;
  /** The parameter that carries `audience`: `"audience"` (default, e.g. Auth0) or `"resource"` (RFC 8707). */
  readonly audienceParameter?: "audience" | "resource";
  /** A `fetch` to use instead of the global one (e.g. one with a proxy or mTLS agent). */
  readonly fetch?: typeof fetch;
  /**
   * Ask for DPoP-bound tokens (RFC 9449 §5) with this prover's key (`createDpopProver` of
   * `@connectauth/client/dpop`): each token request carries a proof made by oauth4webapi's `DPoP`, which
   * keeps the server's nonce (a request answered `use_dpop_nonce` is made once more), and the answer must
   * be `token_type: "DPoP"`. The source's `dpop` is then this prover, so that the interceptor sends its
   * tokens as `DPoP` with a proof per call.
   */
  readonly dpop?: DpopProver;
}

/** An OAuth2 token source: cached, refreshed ahead of time, and derivable for other audiences. */
export interface OAuth2TokenSource extends CachedTokenSource {
  /**
   * A source with the same client and issuer for another audience (`client_credentials` only); made
   * once per audience and kept.
   */
  forAudience(audience: string): OAuth2TokenSource;
}

/**
 * Creates a token source that gets access tokens from an OAuth2 authorization server through
 * `oauth4webapi`: `client_credentials` (a workload's own tokens) or `refresh_token` (a user's session),
 * with discovery from the issuer, client secret or `private_key_jwt` authentication, scopes and audience,
 * and DPoP-bound tokens with `dpop`. Tokens are cached and refreshed ahead of expiry as by
 * `createCachedTokenSource`. A token of another type than asked (`Bearer`, or `DPoP` with `dpop`) is
 * refused (`UNSUPPORTED_TOKEN_TYPE`).
 *
 * Plaintext: oauth4webapi refuses `http:` endpoints; this source allows them only when the issuer (and
 * then the discovered token endpoint) is a loopback host (`isLoopbackUrl`: exactly `localhost`,
 * `127.0.0.0/8` or `[::1]`, not `*.localhost`), for local development and tests. Any other `http:`
 * issuer throws a TypeError here.
 *
 * Not checked: the access token itself (it is opaque to a client). An ID token in a `refresh_token`
 * response is validated by oauth4webapi.
 *
 * ```ts
 * const token = createOAuth2TokenSource({
 *   issuer: "https://login.example.com",
 *   clientId: "billing-worker",
 *   clientSecret: env.CLIENT_SECRET,
 *   scopes: ["greet"],
 *   audience: "https://api.example.com",
 * });
 * const transport = createConnectTransport({ baseUrl, interceptors: [createAuthInterceptor({ token })] });
 * ```
 *
 * @throws TypeError for a missing client id or issuer, no or two client authentications, an `http:`
 *   issuer that is not loopback, a `dpop` that is not a prover, or `forAudience` on a `refresh_token`
 *   source.
 */
export function createOAuth2TokenSource(options: OAuth2TokenSourceOptions): OAuth2TokenSource {
  const issuer = toUrl(options.issuer, "issuer");
  const tokenEndpoint = options.tokenEndpoint === undefined ? undefined : toUrl(options.tokenEndpoint, "tokenEndpoint");
  if (typeof options.clientId !== "string" || options.clientId === "") {
    throw new TypeError("connectauth: createOAuth2TokenSource needs a clientId");
  }
  if ((options.clientSecret === undefined) === (options.privateKey === undefined)) {
    throw new TypeError("connectauth: give exactly one of clientSecret and privateKey");
  }
  const grant = options.grant ?? "client_credentials";
  if (
    grant !== "client_credentials" &&
    (typeof grant !== "object" || typeof grant.refreshToken !== "string" || grant.refreshToken === "")
  ) {
    throw new TypeError('connectauth: grant must be "client_credentials" or { refreshToken }');
  }
  const insecure = issuer.protocol === "http:";
  for (const url of [issuer, tokenEndpoint]) {
    if (url !== undefined && url.protocol === "http:" && !isLoopbackUrl(url)) {
      throw new TypeError(`connectauth: ${url.origin} is plaintext and not loopback: use https://`);
    }
  }
  const { dpop } = options;
  if (dpop !== undefined && (typeof dpop !== "object" || dpop === null || typeof dpop.interceptor !== "function")) {
    throw new TypeError("connectauth: dpop must be a prover of createDpopProver");
  }
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth =
    options.clientSecret !== undefined
      ? options.clientSecretMethod === "client_secret_post"
        ? oauth.ClientSecretPost(options.clientSecret)
        : oauth.ClientSecretBasic(options.clientSecret)
      : oauth.PrivateKeyJwt(options.privateKey as CryptoKey | oauth.PrivateKey);
  const http = {
    ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
    ...(options.fetch !== undefined ? { [oauth.customFetch]: options.fetch } : {}),
  };
  // One DPoP handle for every audience's requests: one key, and the server's nonce kept across them.
  const grantOptions = dpop === undefined ? http : { ...http, DPoP: oauth.DPoP(client, dpop.keyPair) };
  const tokenType = dpop === undefined ? "bearer" : "dpop"; // oauth4webapi lowercases token_type

  let metadata: Promise<oauth.AuthorizationServer> | undefined;
  const server = (): Promise<oauth.AuthorizationServer> => {
    metadata ??= discover().catch((error: unknown) => {
      metadata = undefined; // try again on the next load
      throw error;
    });
    return metadata;
  };
  const discover = async (): Promise<oauth.AuthorizationServer> => {
    if (tokenEndpoint !== undefined) {
      return { issuer: issuer.href, token_endpoint: tokenEndpoint.href };
    }
    const response = await oauth.discoveryRequest(issuer, { ...http, algorithm: options.discovery ?? "oidc" });
    const as = await oauth.processDiscoveryResponse(issuer, response);
    if (as.token_endpoint === undefined) {
      throw Object.assign(new Error("the issuer's metadata has no token_endpoint"), { code: "OAUTH_MISSING_SERVER_METADATA" });
    }
    const endpoint = new URL(as.token_endpoint);
    if (endpoint.protocol === "http:" && !isLoopbackUrl(endpoint)) {
      throw Object.assign(new Error("the discovered token endpoint is plaintext and not loopback"), {
        code: "INSECURE_TOKEN_ENDPOINT",
      });
    }
    return as;
  };

  const sources = new Map<string, OAuth2TokenSource>();
  // Observers (the interceptor's onEvent) see the refreshes of every audience's source.
  const observers: ClientAuthEventHandler[] = [];
  const all: CachedTokenSource[] = [];
  const make = (audience: string | undefined): OAuth2TokenSource => {
    const parameters = new URLSearchParams();
    if (options.scopes !== undefined && options.scopes.length > 0) parameters.set("scope", options.scopes.join(" "));
    if (audience !== undefined) parameters.set(options.audienceParameter ?? "audience", audience);
    let refreshToken = typeof grant === "object" ? grant.refreshToken : undefined;
    const request = async (as: oauth.AuthorizationServer): Promise<oauth.TokenEndpointResponse> => {
      if (refreshToken === undefined) {
        const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, grantOptions);
        return oauth.processClientCredentialsResponse(as, client, response);
      }
      const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
        ...grantOptions,
        additionalParameters: parameters,
      });
      const result = await oauth.processRefreshTokenResponse(as, client, response);
      refreshToken = result.refresh_token ?? refreshToken; // follow rotation
      return result;
    };
    const cached = createCachedTokenSource({
      ...options,
      load: async () => {
        const as = await server();
        let result: oauth.TokenEndpointResponse;
        try {
          result = await request(as);
        } catch (error) {
          // The DPoP handle kept the nonce of that answer: once more, with a proof that carries it.
          if (dpop === undefined || !oauth.isDPoPNonceError(error)) throw error;
          result = await request(as);
        }
        if (result.token_type !== tokenType) {
          const message = dpop === undefined ? "the token is not a Bearer token" : "the token is not DPoP-bound";
          throw Object.assign(new Error(message), { code: "UNSUPPORTED_TOKEN_TYPE" });
        }
        return { token: result.access_token, expiresIn: result.expires_in };
      },
    });
    for (const h of observers) cached.observe(h);
    all.push(cached);
    return {
      ...cached,
      ...(dpop === undefined ? {} : { dpop }),
      observe(handler) {
        observers.push(handler);
        for (const c of all) c.observe(handler);
      },
      forAudience(other) {
        if (typeof grant === "object") {
          throw new TypeError("connectauth: forAudience needs the client_credentials grant");
        }
        let source = sources.get(other);
        if (source === undefined) {
          source = make(other);
          sources.set(other, source);
        }
        return source;
      },
    };
  };
  return make(options.audience);
}

function toUrl(value: string | URL, name: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new TypeError(`connectauth: ${name} must be a URL`);
  }
}
