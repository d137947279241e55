// The development issuer of `@connectauth/node/dev`: keys in memory and a token mint. Serving it over
// HTTP is dev-server.ts.

import { type JSONWebKeySet, SignJWT, exportJWK, generateKeyPair } from "jose";

/** Options of {@link createDevIssuer}. */
export interface DevIssuerOptions {
  /** The `iss` of minted tokens; also the base of its discovery document. */
  readonly issuer: string;
  /** The default `aud` of minted tokens. */
  readonly audience: string;
  /** The current time in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** What a minted token says. */
export interface MintOptions {
  /** The `sub`. */
  readonly subject: string;
  /** The `scope` claim, joined with spaces. Default none (an empty `scope`). */
  readonly scopes?: readonly string[];
  /** Lifetime in seconds from now (negative: already expired). Default 300. */
  readonly ttlSeconds?: number;
  /** Override the audience (e.g. to show INVALID_AUDIENCE). */
  readonly audience?: string;
  /** Override the issuer (e.g. to show INVALID_ISSUER). */
  readonly issuer?: string;
  /** `nbf` in seconds from now. */
  readonly notBeforeSeconds?: number;
  /** More claims (they cannot replace the registered ones set above). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Override the `kid` of the header (e.g. to show an unknown signing key). */
  readonly keyId?: string;
  /**
   * Binds the token to a DPoP key (RFC 9449 §6): `cnf: { jkt }`, the RFC 7638 SHA-256 thumbprint of the
   * client's public key (43 base64url characters, as `calculateJwkThumbprint` of jose returns it).
   */
  readonly jkt?: string;
}

/** A development issuer: one ES256 key pair made at start, its JWKS, and a token mint. */
export interface DevIssuer {
  /** The `iss` of its tokens. */
  readonly issuer: string;
  /** The default `aud` of its tokens. */
  readonly audience: string;
  /** The public keys, as served at `/.well-known/jwks.json`. */
  readonly jwks: JSONWebKeySet;
  /** The OpenID discovery document (issuer and jwks_uri), as served at `/.well-known/openid-configuration`. */
  readonly discovery: Readonly<Record<string, string>>;
  /** The `kid` of its key. */
  readonly keyId: string;
  /** Mints a signed access token; rejects with a TypeError for a `jkt` that is not a thumbprint. */
  mint(options: MintOptions): Promise<string>;
}

/**
 * Creates an in-memory development issuer, for demos and tests: one ES256 key pair made now, its JWKS,
 * and a mint of access tokens (`typ: "at+jwt"`, a fresh `jti`, `scope` as a space-separated string).
 * Not for production: the key lives in memory and anyone with access to the process can mint tokens.
 *
 * ```ts
 * import { createDevIssuer } from "@connectauth/node/dev";
 *
 * const issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
 * const jwt = createJwtAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"], keys: issuer.jwks });
 * const token = await issuer.mint({ subject: "alice", scopes: ["greet"] });
 * ```
 *
 * With `jkt`, the token is bound to a DPoP key (`cnf: { jkt }`), as a DPoP server requires:
 *
 * ```ts
 * const bound = await issuer.mint({ subject: "alice", scopes: ["greet"], jkt: await calculateJwkThumbprint(publicJwk) });
 * ```
 *
 * Not checked: what a mint asks for (a `jkt` is checked for its form only, not that anyone holds the
 * key). Its overrides exist to make bad tokens on purpose (expired, for another audience or issuer, an
 * unknown `kid`, a lifetime longer than servers accept).
 *
 * @throws TypeError when `issuer` or `audience` is not a non-empty string, or `now` is not a function.
 */
export async function createDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  if (typeof options.issuer !== "string" || options.issuer === "") {
    throw new TypeError("createDevIssuer: issuer must be a non-empty string (the iss of its tokens)");
  }
  if (typeof options.audience !== "string" || options.audience === "") {
    throw new TypeError("createDevIssuer: audience must be a non-empty string (the default aud of its tokens)");
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError("createDevIssuer: now must be a function returning the time in ms");
  }
  const now = options.now ?? Date.now;
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = `dev-${crypto.randomUUID().slice(0, 8)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const base = options.issuer.replace(/\/$/, "");
  return {
    issuer: options.issuer,
    audience: options.audience,
    jwks: { keys: [jwk] },
    keyId: kid,
    discovery: { issuer: options.issuer, jwks_uri: `${base}/.well-known/jwks.json` },
    async mint(m) {
      if (m.jkt !== undefined && !isJwkThumbprint(m.jkt)) {
        throw new TypeError("mint: jkt must be a JWK SHA-256 thumbprint (43 base64url characters)");
      }
      const iat = Math.floor(now() / 1000);
      const cnf = m.jkt === undefined ? {} : { cnf: { jkt: m.jkt } };
      const jwt = new SignJWT({ ...m.claims, scope: (m.scopes ?? []).join(" "), ...cnf })
        .setProtectedHeader({ alg: "ES256", kid: m.keyId ?? kid, typ: "at+jwt" })
        .setIssuer(m.issuer ?? options.issuer)
        .setAudience(m.audience ?? options.audience)
        .setSubject(m.subject)
        .setIssuedAt(iat)
        .setExpirationTime(iat + (m.ttlSeconds ?? 300))
        .setJti(crypto.randomUUID());
      if (m.notBeforeSeconds !== undefined) jwt.setNotBefore(iat + m.notBeforeSeconds);
      return jwt.sign(privateKey);
    },
  };
}

/**
 * Whether `value` has the form of an RFC 7638 SHA-256 thumbprint: 43 base64url characters (32 bytes,
 * no padding), what a token's `cnf.jkt` holds.
 *
 * ```ts
 * isJwkThumbprint(await calculateJwkThumbprint(jwk)); // true
 * ```
 *
 * Not checked: that it is the thumbprint of any key (it cannot be told from its form).
 */
export function isJwkThumbprint(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(value);
}
