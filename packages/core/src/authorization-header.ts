import { createAuthError } from "./auth-error.js";
import { Reason } from "./reason.js";

/** The request header that carries credentials. */
export const authorizationHeader = "authorization";

/** One credential read from an `Authorization` header. */
export interface Credentials {
  /** The auth scheme, lowercased (`"bearer"`). Schemes are case-insensitive (RFC 7235 §2.1). */
  readonly scheme: string;
  /** The credential itself (a token68 / b64token). Secret: never log it or put it in an error. */
  readonly value: string;
}

/** Options of {@link parseAuthorization}. */
export interface ParseAuthorizationOptions {
  /**
   * The largest header value accepted, in characters, checked before anything else is read.
   * Default 8192: larger than any sane access token, small enough to bound the work an attacker causes.
   */
  readonly maxLength?: number;
  /** The `realm` of the challenge of the errors thrown. */
  readonly realm?: string;
}

const defaultMaxLength = 8192;
const schemeSyntax = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 6750 §2.1 b64token, which is also RFC 7235's token68.
const token68Syntax = /^[A-Za-z0-9\-._~+/]+=*$/;
// The credential of "Bearer a, Bearer b" (what HTTP stacks make of two Authorization headers): "a, Bearer b".
const joinedValue = /^\S+\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+ +\S/;

/**
 * Whether a value is one token68 (RFC 7235 §2.1), which is also RFC 6750's b64token: one or more of
 * `A-Z a-z 0-9 - . _ ~ + /`, then any `=` padding. The one syntax of a credential in connectauth: the
 * server's parser reads credentials with it, and the client sends only tokens that pass it (so no CR,
 * LF, space, other ASCII punctuation, non-ASCII character or empty value reaches a header).
 *
 * ```ts
 * isToken68("eyJhbGciOi.eyJzdWIi.c2ln"); // true
 * isToken68("abc\r\nx-injected: 1"); // false
 * ```
 *
 * Anything that is not a string is not a token68. Not checked: the length (the server bounds the whole
 * header with `maxLength`), nor that the value is a JWT or any other format.
 */
export function isToken68(value: string): boolean {
  // typeof first: RegExp.test would read undefined, null or 42 from a token function as a token68 text.
  return typeof value === "string" && token68Syntax.test(value);
}

/**
 * Parses an `Authorization` header value strictly (RFC 7235 §2.1, RFC 6750 §2.1): one scheme, one or
 * more spaces, one token68 credential. Returns `undefined` when the header is absent or empty.
 *
 * Throws the contract's `ConnectError`s (never with the header text in them):
 * `MULTIPLE_CREDENTIALS` for two credentials (several header values are joined with `", "`),
 * `MALFORMED_CREDENTIALS` for anything else that does not parse or is longer than `maxLength`.
 *
 * ```ts
 * parseAuthorization(req.header.get("authorization"));
 * // { scheme: "bearer", value: "eyJhbGciOi…" }
 * ```
 *
 * Not supported: schemes whose credentials are auth-params (`Digest a=b, c=d`); they are malformed here.
 */
export function parseAuthorization(
  header: string | null | undefined,
  options: ParseAuthorizationOptions = {},
): Credentials | undefined {
  const read = readAuthorization(header, options);
  if (read === undefined || !("reason" in read)) return read;
  throw createAuthError(read.reason, { realm: options.realm, message: read.message });
}

/** Why an `Authorization` header value cannot be read, as a value (see {@link readAuthorization}). */
export interface AuthorizationFault {
  readonly reason: typeof Reason.MalformedCredentials | typeof Reason.MultipleCredentials;
  /** For humans; never holds the header text. */
  readonly message: string;
}

/**
 * {@link parseAuthorization} with its refusal returned as a value rather than thrown: the credential,
 * `undefined` when the header is absent or empty, or an {@link AuthorizationFault}. For servers that
 * build their errors in one place. It is {@link splitAuthorization}, then {@link credentialFault} of
 * the value.
 *
 * ```ts
 * const read = readAuthorization(req.header.get("authorization"), { maxLength: 8192 });
 * if (read !== undefined && "reason" in read) refuse(read.reason, read.message);
 * ```
 */
export function readAuthorization(
  header: string | null | undefined,
  options: { readonly maxLength?: number } = {},
): Credentials | AuthorizationFault | undefined {
  const split = splitAuthorization(header, options.maxLength ?? defaultMaxLength);
  if (split === undefined || "reason" in split) return split;
  return credentialFault(split.value) ?? split;
}

/**
 * The scheme (lowercased) and the credential of an `Authorization` header value, everything
 * {@link readAuthorization} checks except the credential's own syntax: the header's length, one
 * scheme, one or more spaces, a credential. `undefined` when the header is absent or empty.
 *
 * ```ts
 * const split = splitAuthorization(req.header.get("authorization"), 8192);
 * if (split !== undefined && !("reason" in split)) credentialFault(split.value); // undefined: a token68
 * ```
 *
 * Not checked: that the credential is a token68 ({@link credentialFault} is that check). A server
 * hands the value on unchecked only to code that refuses a non-token68 value before reading it.
 */
export function splitAuthorization(
  header: string | null | undefined,
  maxLength: number,
): Credentials | AuthorizationFault | undefined {
  if (header == null) {
    return undefined;
  }
  if (header.length > maxLength) {
    return malformed(`the authorization header is longer than ${maxLength} characters`);
  }
  const text = header.trim();
  if (text === "") {
    return undefined;
  }
  const space = text.indexOf(" ");
  const scheme = space < 0 ? text : text.slice(0, space);
  let start = space + 1;
  while (space >= 0 && text.charCodeAt(start) === 0x20) start++;
  const value = space < 0 ? "" : text.slice(start);
  if (!schemeSyntax.test(scheme)) {
    return malformed("the authorization header does not start with an auth scheme");
  }
  if (value === "") {
    // Often a bare token without "Bearer ": the scheme may be the token, so it is not echoed.
    return malformed('the authorization header must be "<scheme> <credential>", e.g. "Bearer <token>"');
  }
  return { scheme: lowercase(scheme), value };
}

// The two spellings clients send are lowercased without making a new string on every call.
const lowercase = (scheme: string): string =>
  scheme === "Bearer" ? "bearer" : scheme === "DPoP" ? "dpop" : scheme.toLowerCase();

/**
 * Why the credential after an `Authorization` scheme is refused: `undefined` for a token68
 * ({@link isToken68}), `MULTIPLE_CREDENTIALS` for the credential of two joined header values
 * (`"a, Bearer b"`), `MALFORMED_CREDENTIALS` for anything else.
 *
 * ```ts
 * credentialFault("eyJhbGciOi.eyJzdWIi.c2ln"); // undefined
 * credentialFault("a, Bearer b")?.reason; // "MULTIPLE_CREDENTIALS"
 * ```
 *
 * Not checked: the length (see {@link splitAuthorization}).
 */
export function credentialFault(value: string): AuthorizationFault | undefined {
  if (isToken68(value)) return undefined;
  return joinedValue.test(value)
    ? { reason: Reason.MultipleCredentials, message: "more than one authorization credential was sent" }
    : malformed("the credential after the auth scheme is not a token68 (RFC 6750 §2.1)");
}

function malformed(message: string): AuthorizationFault {
  return { reason: Reason.MalformedCredentials, message };
}
