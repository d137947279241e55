// 127.0.0.0/8 as the WHATWG URL parser writes an IPv4 host: four decimal octets, each 0-255 without
// leading zeros (it turns 127.1, 0x7f.0.0.1, 2130706433 and 127.0.0.1. into this form, and refuses
// 127.0.0.256, before anyone reads `hostname`). A host whose last label is a number is always parsed
// as IPv4, so a hostname of this shape is such an address: the parser has checked the octets already.
const loopbackIPv4 = /^127(?:\.\d{1,3}){3}$/;

/**
 * Whether a URL's host is loopback, where plaintext never leaves the machine: exactly `localhost`,
 * an IPv4 address in `127.0.0.0/8`, or the IPv6 address `[::1]`. The URL is read by the WHATWG parser
 * (`new URL`, as `fetch` and Node's `http` read it), so `http://127.1`, `http://LOCALHOST` and
 * `http://[0:0::1]` are loopback, and an unparsable URL is not.
 *
 * Every connectauth package decides loopback with this one function: the client's plaintext guard and
 * OAuth2 endpoints, credential forwarding, the server's key URLs (`allowInsecureLoopback`) and
 * `connectauth doctor`.
 *
 * ```ts
 * isLoopbackUrl("http://127.0.0.1:8080/x"); // true
 * isLoopbackUrl(new URL("http://[::1]:5")); // true
 * isLoopbackUrl("http://localhost.example.com"); // false
 * isLoopbackUrl("http://app.localhost"); // false
 * ```
 *
 * Not loopback, on purpose (fail closed): subdomains of `localhost` (`app.localhost`) and `localhost.`
 * with a trailing dot, which Node resolves through the system resolver and possibly DNS rather than
 * answering loopback itself; IPv4-mapped IPv6 (`[::ffff:127.0.0.1]`); `0.0.0.0`. Not checked: what the
 * name `localhost` resolves to on this machine (`/etc/hosts`), nor whether a proxy is in the way.
 */
export function isLoopbackUrl(url: string | URL): boolean {
  let host: string;
  try {
    host = (typeof url === "string" ? new URL(url) : url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || loopbackIPv4.test(host);
}
