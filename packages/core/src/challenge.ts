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
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new TypeError("challenge parameter values cannot hold control characters");
    }
    return `${name}="${value.replace(/["\\]/g, (c) => "\\" + c)}"`;
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
  const s = header ?? "";
  let i = 0;
  // Matches a sticky regex at i and moves past what it matched.
  const eat = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = i;
    const m = re.exec(s);
    if (m) i = re.lastIndex;
    return m;
  };
  // Commas and whitespace between challenges, then the scheme.
  for (let scheme; eat(/[ \t,]*/y) && (scheme = eat(/[!#$%&'*+.^_`|~0-9A-Za-z-]+/y)); ) {
    const params: Record<string, string> = {};
    out.push({ scheme: scheme[0], params });
    eat(/[ \t]*/y);
    // token68: a run of token68 chars followed by optional "=" and then end or comma.
    const t68 = eat(/[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/y);
    if (t68) {
      params["token68"] = t68[0];
      continue;
    }
    // auth-params: name = token or quoted-string, separated by commas, until the next "scheme " (a token
    // not followed by "="), where the match fails and i stays.
    for (let p; eat(/[ \t]*/y) && (p = eat(/([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*(?:"((?:\\[^]|[^"\\])*)(")?|([!#$%&'*+.^_`|~0-9A-Za-z-]*))/y)); ) {
      if (p[2] !== undefined && p[3] === undefined) return out; // unterminated quoted-string
      // defineProperty: a parameter named "__proto__" is an own property, not a prototype change.
      Object.defineProperty(params, p[1]!.toLowerCase(), {
        value: p[4] ?? p[2]!.replace(/\\([^])/g, "$1"),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      eat(/[ \t]*/y);
      if (!eat(/,/y)) break;
    }
    if (i < s.length && !/[,!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) {
      break; // garbage
    }
  }
  return out;
}
