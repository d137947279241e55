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
  const credentials = splitAuthorization(header, options);
  if (credentials !== undefined) assertToken68(credentials.value, options.realm);
  return credentials;
}

/**
 * {@link parseAuthorization} without its last step, the scan of the whole credential for token68
 * syntax ({@link assertToken68}): for a server that first asks whether it knows the credential
 * already (a credential accepted before was scanned then), and scans only the ones it does not know.
 * Throws what `parseAuthorization` throws for everything else.
 *
 * ```ts
 * const credentials = splitAuthorization(header);
 * if (credentials && !knownBefore(credentials.value)) assertToken68(credentials.value);
 * ```
 */
export function splitAuthorization(
  header: string | null | undefined,
  options: ParseAuthorizationOptions = {},
): Credentials | undefined {
  if (header == null) {
    return undefined;
  }
  const maxLength = options.maxLength ?? defaultMaxLength;
  const realm = options.realm;
  if (header.length > maxLength) {
    throw createAuthError(Reason.MalformedCredentials, {
      realm,
      message: `the authorization header is longer than ${maxLength} characters`,
    });
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
    throw createAuthError(Reason.MalformedCredentials, {
      realm,
      message: "the authorization header does not start with an auth scheme",
    });
  }
  if (value === "") {
    // Often a bare token without "Bearer ": the scheme may be the token, so it is not echoed.
    throw createAuthError(Reason.MalformedCredentials, {
      realm,
      message: 'the authorization header must be "<scheme> <credential>", e.g. "Bearer <token>"',
    });
  }
  return { scheme: scheme.toLowerCase(), value };
}

/**
 * Checks that a credential read by {@link splitAuthorization} is one token68 (RFC 6750 §2.1), and throws
 * `MULTIPLE_CREDENTIALS` when it is two credentials joined by a comma (what HTTP stacks make of two
 * `Authorization` headers), `MALFORMED_CREDENTIALS` for anything else.
 *
 * ```ts
 * assertToken68("eyJhbGciOi…"); // fine
 * assertToken68("abc, Bearer def"); // throws MULTIPLE_CREDENTIALS
 * ```
 */
export function assertToken68(value: string, realm?: string): void {
  if (token68Syntax.test(value)) return;
  if (joinedValue.test(value)) {
    throw createAuthError(Reason.MultipleCredentials, {
      realm,
      message: "more than one authorization credential was sent",
    });
  }
  throw createAuthError(Reason.MalformedCredentials, {
    realm,
    message: "the credential after the auth scheme is not a token68 (RFC 6750 §2.1)",
  });
}
