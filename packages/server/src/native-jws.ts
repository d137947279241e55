import { jwtVerify } from "jose";

/**
 * @internal Verifies a JWT exactly as jose's `jwtVerify` does (same arguments, results and errors).
 * The one seam through which the server verifies JWS signatures.
 *
 * ```ts
 * const { payload, protectedHeader, key } = await verifyJwt(token, getKey, { algorithms: ["ES256"] });
 * ```
 */
export const verifyJwt: typeof jwtVerify = jwtVerify;
