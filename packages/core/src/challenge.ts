/**
 * One challenge of a `WWW-Authenticate` header (RFC 7235 §4.1), e.g.
 * `Bearer realm="api", error="insufficient_scope", scope="admin"`.
 */
export interface Challenge {
  /** The auth scheme as sent; compare case-insensitively (RFC 7235 §2.1). */
  readonly scheme: string;
  /** The auth-params, names lowercased. */
  readonly params: Readonly<Record<string, string>>;
}

const tokenChars = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Formats a challenge for the `WWW-Authenticate` header. Parameter values are always sent as
 * quoted-strings (RFC 6750 §3 requires it for `scope` and `error`), with `"` and `\` escaped.
 *
 * ```ts
 * formatChallenge({ scheme: "Bearer", params: { realm: "api", error: "invalid_token" } });
 * // 'Bearer realm="api", error="invalid_token"'
 * ```
 *
 * @throws TypeError if the scheme or a parameter name is not an RFC 7230 token, or a value holds a
 * control character (which a header cannot carry).
 */
export function formatChallenge(challenge: Challenge): string {
  if (!tokenChars.test(challenge.scheme)) {
    throw new TypeError("challenge scheme must be an HTTP token");
  }
  const params = Object.entries(challenge.params).map(([name, value]) => {
    if (!tokenChars.test(name)) {
      throw new TypeError("challenge parameter names must be HTTP tokens");
    }
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new TypeError("challenge parameter values cannot hold control characters");
    }
    return `${name}="${value.replace(/["\\]/g, "\\$&")}"`;
  });
  return params.length === 0 ? challenge.scheme : `${challenge.scheme} ${params.join(", ")}`;
}

/**
 * Parses a `WWW-Authenticate` header value into its challenges (several challenges may share one value,
 * and several header values arrive joined by `, `). Tolerant of what servers send: token or quoted
 * values, optional whitespace, a token68 (kept as the parameter `token68`). Never throws; text that
 * cannot be parsed ends the parse and what was read so far is returned.
 *
 * ```ts
 * parseChallenges('Bearer realm="api", error="invalid_token", Basic realm="x"');
 * // [{ scheme: "Bearer", params: { realm: "api", error: "invalid_token" } },
 * //  { scheme: "Basic", params: { realm: "x" } }]
 * ```
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  const text = header ?? "";
  listElement.lastIndex = 0;
  for (let m = listElement.exec(text); m !== null; m = listElement.exec(text)) {
    const [, name, quoted, token, scheme, token68] = m;
    if (scheme !== undefined) {
      out.push({ scheme, params: token68 === undefined ? {} : { token68 } });
      continue;
    }
    const params = out.at(-1)?.params;
    if (params === undefined) break; // a parameter before any scheme
    // defineProperty: a parameter named "__proto__" is an own property, not a prototype change.
    Object.defineProperty(params, name.toLowerCase(), {
      value: token ?? quoted.replace(/\\([\s\S])/g, "$1"),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

// One element of the list at a time, after the commas and spaces before it: an auth-param
// (1: name, then 2: quoted-string or 3: token, ending at a comma or the end), or an auth-scheme (4),
// followed by a space, a comma or the end, with an optional token68 (5). Text that matches neither
// ends the parse.
const listElement =
  /[ \t,]*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*(?:"((?:\\[\s\S]|[^"\\])*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]*))(?=[ \t]*(?:,|$))|([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?=[ \t,]|$)(?:[ \t]+([A-Za-z0-9\-._~+/]+=*)(?=[ \t]*(?:,|$)))?)/y;
