// Where the native JWS path finds Node's built-in modules, and the part of node:crypto that it uses.

/**
 * @internal A key as `node:crypto` holds it (a `KeyObject`), as far as the native path reads it.
 *
 * ```ts
 * const native: NativeKey = crypto.KeyObject.from(cryptoKey); // { type: "public", asymmetricKeyType: "ec", … }
 * ```
 */
export interface NativeKey {
  readonly type: string;
  readonly asymmetricKeyType?: string;
  readonly asymmetricKeyDetails?: { readonly namedCurve?: string; readonly modulusLength?: number };
  readonly symmetricKeySize?: number;
}

/**
 * @internal The part of `node:crypto` the native path uses (typed here: this isomorphic package has no
 * Node types).
 *
 * ```ts
 * const crypto = nodeCryptoOf(globalThis); // NativeCrypto | undefined
 * ```
 */
export interface NativeCrypto {
  verify(
    algorithm: string | null,
    data: Uint8Array,
    key: NativeKey | { key: NativeKey; dsaEncoding?: string; padding?: number; saltLength?: number },
    signature: Uint8Array,
  ): boolean;
  createHmac(algorithm: string, key: NativeKey | Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } };
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  createPublicKey(key: { key: object; format: "jwk" }): NativeKey;
  readonly KeyObject: { from(key: CryptoKey): NativeKey };
  readonly constants: { readonly RSA_PKCS1_PSS_PADDING: number };
}

type WithBuiltins = {
  process?: { versions?: { node?: unknown; bun?: unknown }; getBuiltinModule?: (id: string) => unknown };
  Deno?: unknown;
};

function isNativeCrypto(value: unknown): value is NativeCrypto {
  const c = value as Partial<NativeCrypto> | null | undefined;
  return (
    typeof c?.verify === "function" &&
    typeof c.createHmac === "function" &&
    typeof c.timingSafeEqual === "function" &&
    typeof c.createPublicKey === "function" &&
    typeof c.KeyObject?.from === "function" &&
    typeof c.constants?.RSA_PKCS1_PSS_PADDING === "number"
  );
}

/**
 * @internal A built-in module of Node (`node:crypto`, `node:buffer`), found at run time through
 * `process.getBuiltinModule` so that this isomorphic package imports nothing from `node:*`;
 * `undefined` where there is none (browsers, workers, Node < 20.16) and in Deno and Bun, whose
 * built-ins are not the ones the differential tests hold to jose's behaviour.
 *
 * ```ts
 * nodeBuiltinOf(globalThis, "node:buffer"); // node:buffer on Node ≥ 20.16
 * nodeBuiltinOf({}, "node:buffer"); // undefined
 * ```
 *
 * Not checked: what the module holds (the caller checks the members it uses).
 */
export function nodeBuiltinOf(scope: unknown, id: string): unknown {
  try {
    const { process, Deno } = (scope ?? {}) as WithBuiltins;
    if (Deno !== undefined || typeof process?.versions?.node !== "string" || process.versions.bun !== undefined) {
      return undefined;
    }
    return process.getBuiltinModule?.(id);
  } catch {
    return undefined;
  }
}

/**
 * @internal The `node:crypto` of Node ({@link nodeBuiltinOf}), with every function the native path
 * uses; `undefined` elsewhere.
 *
 * ```ts
 * nodeCryptoOf(globalThis); // node:crypto on Node ≥ 20.16
 * nodeCryptoOf({}); // undefined
 * ```
 *
 * Not checked: the module's behaviour, beyond the presence of the functions used.
 */
export function nodeCryptoOf(scope: unknown): NativeCrypto | undefined {
  try {
    const crypto = nodeBuiltinOf(scope, "node:crypto");
    return isNativeCrypto(crypto) ? crypto : undefined;
  } catch {
    return undefined; // a module whose members throw when read
  }
}
