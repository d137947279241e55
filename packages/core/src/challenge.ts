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
  const out: { scheme: string; params: Record<string, string> }[] = [];
  if (header == null) {
    return out;
  }
  const s = header;
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string | undefined => {
    // s[i] === '"'
    i++;
    let value = "";
    while (i < s.length) {
      const c = s[i]!;
      if (c === "\\" && i + 1 < s.length) {
        value += s[i + 1];
        i += 2;
      } else if (c === '"') {
        i++;
        return value;
      } else {
        value += c;
        i++;
      }
    }
    return undefined; // unterminated
  };
  for (;;) {
    skipWs();
    while (s[i] === ",") {
      i++;
      skipWs();
    }
    if (i >= s.length) break;
    const scheme = readToken();
    if (scheme === "") break;
    const challenge = { scheme, params: {} as Record<string, string> };
    out.push(challenge);
    skipWs();
    // token68: a run of token68 chars followed by optional "=" and then end or comma.
    const t68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/.exec(s.slice(i));
    if (t68) {
      challenge.params["token68"] = t68[0];
      i += t68[0].length;
      continue;
    }
    // auth-params: name = value, separated by commas, until the next "scheme " (a token followed by
    // whitespace and not by "=").
    for (;;) {
      skipWs();
      const save = i;
      const name = readToken();
      if (name === "") break;
      skipWs();
      if (s[i] !== "=") {
        i = save; // the start of the next challenge
        break;
      }
      i++;
      skipWs();
      let value: string | undefined;
      if (s[i] === '"') {
        value = readQuoted();
        if (value === undefined) return out;
      } else {
        value = readToken();
      }
      // defineProperty: a parameter named "__proto__" is an own property, not a prototype change.
      Object.defineProperty(challenge.params, name.toLowerCase(), {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      skipWs();
      if (s[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    if (i < s.length && s[i] !== "," && !/[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) {
      break; // garbage
    }
  }
  return out;
}
