import { type ClientReason, clientRefusal } from "./client-reason.js";
import { isLoopbackUrl } from "./loopback.js";

/** Options of {@link assertSecureTransport}. */
export interface SecureTransportOptions {
  /**
   * Also allow plaintext `http:` to hosts that are not loopback, for a network secured otherwise (a mesh
   * with mTLS). Default `false`. Other schemes and unparsable URLs are refused even then.
   */
  readonly allowInsecureTransport?: boolean;
}

/**
 * The plaintext guard of everything that sends credentials (the client interceptor, credential
 * forwarding): returns when a credential may be sent to `url`, and throws otherwise. Decided by the URL
 * as the WHATWG parser reads it (as `fetch` and Node's `http` will), so `HTTP://`, `" http://"` and
 * `"h\ttp://"` are `http:`. Allowed: `https:`, and `http:` to a loopback host ({@link isLoopbackUrl}:
 * `localhost`, `127.0.0.0/8`, `[::1]`), or to any host with `allowInsecureTransport`. Refused: `http:`
 * to any other host, every other scheme (`ws:`, `ftp:`, `file:`, …) and an unparsable URL.
 *
 * The error is a `ConnectError` with code `FailedPrecondition` and `ErrorInfo.reason`
 * `INSECURE_TRANSPORT` ({@link ClientReason}); it names the URL's origin at most (never its path, query
 * or user info).
 *
 * ```ts
 * assertSecureTransport("https://api.example.com/svc/Method"); // fine
 * assertSecureTransport("HTTP://api.example.com/svc/Method"); // throws INSECURE_TRANSPORT
 * assertSecureTransport("http://mesh-peer/svc/Method", { allowInsecureTransport: true }); // fine
 * ```
 *
 * Not checked: the TLS that `https:` will get (certificate trust is the transport's), proxies, and
 * where a name resolves: a host is loopback by how it is written, never by a lookup.
 */
export function assertSecureTransport(url: string | URL, options: SecureTransportOptions = {}): void {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    // refused below
  }
  const protocol = parsed?.protocol;
  if (protocol === "https:") return;
  if (protocol === "http:" && (options.allowInsecureTransport === true || isLoopbackUrl(parsed as URL))) return;
  const where = parsed === undefined ? "an unparsable URL" : protocol === "http:" ? parsed.origin : protocol;
  const optIn = protocol === "http:" ? ", or allowInsecureTransport: true on a secured network" : "";
  // The literal, type-checked as ClientReason: a browser bundle needs no ClientReason table.
  throw clientRefusal(
    "INSECURE_TRANSPORT",
    `connectauth sends no credentials to ${where}: use https://, or http:// to loopback${optIn}`,
  );
}
