import type { Interceptor } from "@connectrpc/connect";
import { CompactSign, type JWK, type JWTPayload, base64url, calculateJwkThumbprint, exportJWK } from "jose";
import { type DpopAlgorithm, dpopAlgorithmOf } from "./dpop-algorithm.js";
import { createDpopNonces } from "./dpop-nonce.js";
import { dpopLayer } from "./dpop-layer.js";
import type { ClientAuthEventHandler } from "./client-auth-event.js";

/** Options of {@link createDpopProver}. */
export interface DpopProverOptions {
  /**
   * The key pair the proofs are signed with: WebCrypto keys (`crypto.subtle` in browsers and on Node).
   * Make the private key non-extractable (`generateKey(…, false, ["sign", "verify"])`): a script that
   * runs in the page can then use it, but not take it away. The public key must be extractable (generated
   * public keys are).
   */
  readonly keyPair: CryptoKeyPair;
  /** The proof algorithm. Default: the key's own (ES256 for P-256, EdDSA for Ed25519, RS256, PS256, …). */
  readonly algorithm?: DpopAlgorithm;
  /**
   * Set it as the transport's `useHttpGet`: the calls of methods with `idempotency_level =
   * NO_SIDE_EFFECTS` then go as HTTP GET, and their proofs say `htm: "GET"`. Default `false`.
   */
  readonly useHttpGet?: boolean;
  /** The current time in ms, for `iat`. Default `Date.now`. */
  readonly now?: () => number;
}

/** One HTTP request to prove: see {@link DpopProver.proof}. */
export interface DpopProofRequest {
  /** The HTTP method (`htm`), e.g. `"POST"`. */
  readonly method: string;
  /** The request's URL: `htu` is it without query and fragment; its origin picks the nonce. */
  readonly url: string | URL;
  /** The access token the request carries: the proof's `ath` is its hash. */
  readonly accessToken?: string;
}

/** Handing a request on, as an interceptor does: the `next` of an {@link Interceptor}. */
export type DpopNext = Parameters<Interceptor>[0];

/**
 * A DPoP key (RFC 9449) and what it proves: made by {@link createDpopProver}, given to
 * `createAuthInterceptor({ dpop })` and `createOAuth2TokenSource({ dpop })`.
 */
export interface DpopProver {
  /** The key pair, for token requests (the OAuth2 source gives it to oauth4webapi's `DPoP`). */
  readonly keyPair: CryptoKeyPair;
  /** The JWS algorithm of the proofs. */
  readonly algorithm: DpopAlgorithm;
  /**
   * The RFC 7638 SHA-256 thumbprint of the public key: what a token bound to this key carries as
   * `cnf.jkt`, and the `dpop_jkt` of an authorization request.
   */
  jkt(): Promise<string>;
  /**
   * A new proof for one request: a `dpop+jwt` with the public key in its `jwk` header and `jti` (random),
   * `htm`, `htu`, `iat`, `ath` (with a token) and the `nonce` of the URL's origin (when one was seen).
   */
  proof(request: DpopProofRequest): Promise<string>;
  /** Keeps the `DPoP-Nonce` of a response from `url` for the next proofs to its origin. */
  rememberNonce(url: string | URL, header: Headers): void;
  /**
   * The layer that `createAuthInterceptor({ dpop })` puts between itself and the transport (apps have no
   * need to call it): it sends each call's token as `DPoP` with a new proof, keeps the servers' nonces,
   * and makes a call once more when a server asks for a nonce. `onEvent` gets its `retry` and `refusal`
   * events.
   */
  interceptor(onEvent?: ClientAuthEventHandler): Interceptor;
}

/**
 * Creates a DPoP prover (RFC 9449): a key pair that binds tokens to the client. Each proof is new (its
 * own `jti`), signed by jose with the private key; the public key is exported once, as a JWK of its public
 * members only. Nonces that servers send (`DPoP-Nonce`) are kept per origin and put in the next proofs.
 *
 * ```ts
 * const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
 * const dpop = createDpopProver({ keyPair });
 * const token = createOAuth2TokenSource({ issuer, clientId, clientSecret, dpop }); // DPoP-bound tokens
 * const interceptor = createAuthInterceptor({ token }); // Authorization: DPoP …, and a DPoP proof per call
 * ```
 *
 * Not checked: that the public key is the private key's pair, that a server accepts the algorithm
 * (its challenge's `algs` say), and the clock (`iat` is `now()`; a server refuses a skewed one).
 *
 * @throws TypeError for a key pair that is not WebCrypto's (see `keyPair`), an `algorithm` the key does
 *   not sign with, or a `now` that is not a function.
 */
export function createDpopProver(options: DpopProverOptions): DpopProver {
  const algorithm = dpopAlgorithmOf(options?.keyPair, options?.algorithm);
  const { keyPair } = options;
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new TypeError("connectauth: now must be a function");
  }
  const useHttpGet = options.useHttpGet === true;
  const nonces = createDpopNonces();
  let jwk: Promise<JWK> | undefined;
  const publicJwk = () => {
    jwk ??= exportJWK(keyPair.publicKey).then(publicMembers);
    return jwk;
  };
  const prover: DpopProver = {
    keyPair,
    algorithm,
    jkt: async () => calculateJwkThumbprint(await publicJwk(), "sha256"),
    async proof(request) {
      const url = new URL(request.url);
      if (typeof request.method !== "string" || request.method === "") {
        throw new TypeError("connectauth: a DPoP proof needs the request's method");
      }
      const claims: JWTPayload = {
        jti: crypto.randomUUID(),
        htm: request.method,
        htu: `${url.origin}${url.pathname}`,
        iat: Math.floor(now() / 1000),
      };
      if (request.accessToken !== undefined) claims["ath"] = await accessTokenHash(request.accessToken);
      const nonce = nonces.get(url);
      if (nonce !== undefined) claims["nonce"] = nonce;
      // CompactSign, not SignJWT: the claims are all set here, and a browser bundle needs no claim builder.
      return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
        .setProtectedHeader({ typ: "dpop+jwt", alg: algorithm, jwk: await publicJwk() })
        .sign(keyPair.privateKey);
    },
    rememberNonce: (url, header) => nonces.remember(new URL(url), header),
    interceptor: (onEvent) => (next) => dpopLayer(next, { prover, nonces, useHttpGet, onEvent }),
  };
  return prover;
}

/** The `ath` of a proof (RFC 9449 §4.2): the base64url SHA-256 of the access token's ASCII. */
async function accessTokenHash(token: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

/** The public members of a key's JWK (RFC 7518 §6), and nothing else: no private member can follow. */
function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return kty === "RSA" ? { kty, e, n } : kty === "EC" ? { kty, crv, x, y } : { kty, crv, x };
}
