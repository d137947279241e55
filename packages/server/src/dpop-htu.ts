import { boundedMemo } from "./bounded-memo.js";

/**
 * @internal The origin of a `publicOrigin` option: an http(s) URL with nothing after its origin but `/`.
 *
 * ```ts
 * publicOriginOf("https://API.example.com:443/", "createDpopProofVerifier"); // "https://api.example.com"
 * ```
 *
 * Not checked: that the origin is this server's.
 *
 * @throws TypeError naming `what` for anything else (a path, query, fragment, userinfo, another scheme).
 */
export function publicOriginOf(value: string, what: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.username !== "" ||
    url.password !== "" ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    /[?#]/.test(value)
  ) {
    throw new TypeError(`${what}: publicOrigin must be an http(s) origin, e.g. "https://api.example.com"`);
  }
  return url.origin;
}

/**
 * The origin and path of an http(s) URL after WHATWG normalisation (query and fragment dropped), with
 * its origin replaced by `origin` when given; `undefined` for anything else. `strict` refuses userinfo.
 */
function targetOf(value: string, origin: string | undefined, strict = false): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (strict && (url.username !== "" || url.password !== "")) return undefined;
  return (origin ?? url.origin) + url.pathname;
}

/**
 * @internal Creates a DPoP verifier's `htu` check (RFC 9449 §4.3): the proof's `htu` and the request URL
 * name the same origin and path after WHATWG URL normalisation (scheme and host case, default port, dot
 * segments; query and fragment dropped), the request's origin replaced by `publicOrigin` when set. Both
 * sides are parsed once per distinct string: the last `maxEntries` request URLs and `htu`s are kept with
 * their normalised form.
 *
 * ```ts
 * const htuMatches = createHtuCheck(undefined, 256);
 * htuMatches("https://api.example.com:443/a.v1.S/M", "https://api.example.com/a.v1.S/M?x=1"); // true
 * ```
 *
 * Not checked: percent-encoding (compared as sent); an `htu` with userinfo, or either URL not absolute
 * http(s), never matches.
 */
export function createHtuCheck(
  publicOrigin: string | undefined,
  maxEntries: number,
): (htu: unknown, requestUrl: string) => boolean {
  const requestTarget = boundedMemo(maxEntries, (url) => targetOf(url, publicOrigin));
  const proofTarget = boundedMemo(maxEntries, (htu) => targetOf(htu, undefined, true));
  return (htu, requestUrl) => {
    const target = typeof requestUrl === "string" ? requestTarget(requestUrl) : undefined;
    return typeof htu === "string" && target !== undefined && proofTarget(htu) === target;
  };
}
