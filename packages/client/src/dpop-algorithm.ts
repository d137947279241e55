/** The JWS algorithms a DPoP proof can be signed with: asymmetric ones only (RFC 9449 §4.2). */
export type DpopAlgorithm =
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519"
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512";

/**
 * The proof algorithm of a WebCrypto key pair: `algorithm` when it is one the key can sign with, else
 * the key's own (the first of {@link dpopAlgorithmsOf}). One key signs with one algorithm: ES256 for a
 * P-256 ECDSA key, EdDSA for Ed25519 (or `"Ed25519"`, when asked), RS256 for an RSASSA-PKCS1-v1_5 key
 * with SHA-256, PS256 for RSA-PSS with SHA-256 (and so on for P-384, P-521, SHA-384 and SHA-512).
 *
 * ```ts
 * const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
 * dpopAlgorithmOf(keyPair); // "ES256"
 * ```
 *
 * Not checked: that the public key is the private key's pair (the verifier finds out), nor the RSA
 * modulus length (jose refuses one under 2048 bits when it signs).
 *
 * @throws TypeError when the pair is not two WebCrypto keys (a private one that can sign and a public
 *   one that can be exported, of the same algorithm), the key is of another algorithm (e.g. HMAC, P-256K),
 *   or `algorithm` is not one the key signs with.
 */
export function dpopAlgorithmOf(keyPair: CryptoKeyPair, algorithm?: DpopAlgorithm): DpopAlgorithm {
  const { privateKey, publicKey } = (keyPair ?? {}) as Partial<CryptoKeyPair>;
  if (!(privateKey instanceof CryptoKey) || privateKey.type !== "private" || !privateKey.usages.includes("sign")) {
    throw new TypeError("connectauth: keyPair.privateKey must be a WebCrypto private key with the sign usage");
  }
  // The public key goes into every proof's `jwk` header. WebCrypto makes generated public keys extractable.
  if (!(publicKey instanceof CryptoKey) || publicKey.type !== "public" || !publicKey.extractable) {
    throw new TypeError("connectauth: keyPair.publicKey must be an extractable WebCrypto public key");
  }
  const own = dpopAlgorithmsOf(privateKey);
  const [first] = own;
  if (first === undefined || own.join() !== dpopAlgorithmsOf(publicKey).join()) {
    throw new TypeError(
      "connectauth: the DPoP key pair must be ECDSA (P-256, P-384, P-521), Ed25519, RSASSA-PKCS1-v1_5 or RSA-PSS, both keys alike",
    );
  }
  if (algorithm === undefined) return first;
  if (!own.includes(algorithm)) {
    throw new TypeError(`connectauth: this key signs DPoP proofs with ${own.join(" or ")}, not ${String(algorithm)}`);
  }
  return algorithm;
}

/** The JWS algorithms a WebCrypto signing key can make, its default first; none for other keys. */
export function dpopAlgorithmsOf(key: CryptoKey): DpopAlgorithm[] {
  const a = key.algorithm as KeyAlgorithm & { namedCurve?: string; hash?: { name?: string } };
  const bits = a.hash?.name?.replace("SHA-", "");
  const sha = bits === "256" || bits === "384" || bits === "512" ? bits : undefined;
  switch (a.name) {
    case "ECDSA": {
      const curve = { "P-256": "256", "P-384": "384", "P-521": "512" }[a.namedCurve ?? ""];
      return curve === undefined ? [] : [`ES${curve}` as DpopAlgorithm];
    }
    case "Ed25519":
      return ["EdDSA", "Ed25519"];
    case "RSASSA-PKCS1-v1_5":
      return sha === undefined ? [] : [`RS${sha}`];
    case "RSA-PSS":
      return sha === undefined ? [] : [`PS${sha}`];
    default:
      return [];
  }
}
