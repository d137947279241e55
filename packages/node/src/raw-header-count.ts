/**
 * How many times a header came on the wire, counted in Node's raw header list: `req.rawHeaders` of
 * `http.IncomingMessage` (HTTP/1.1, names as the client spelled them) and of `http2.Http2ServerRequest`
 * (HTTP/2, lowercase names), a flat `[name, value, name, value, …]` array. This is what connect's
 * `Headers` cannot show: Node keeps only the first `Authorization` (HTTP/2 always, HTTP/1.1 unless the
 * server sets `joinDuplicateHeaders`) and joins other repeated headers with `", "`.
 *
 * `name` must be lowercase; the raw names are compared without regard to case. The list is scanned at
 * each call of the counter, not when it is made.
 *
 * ```ts
 * rawHeaderCounter(req)?.("authorization"); // 2 for a request with two Authorization headers
 * ```
 *
 * Not checked: the values (an empty one counts), and trailers (`rawTrailers`), where no credential is read.
 * `undefined` when the request has no raw header list (not a Node request): then nothing is counted.
 */
export function rawHeaderCounter(request: { readonly rawHeaders?: unknown }): ((name: string) => number) | undefined {
  const raw = request.rawHeaders;
  if (!Array.isArray(raw)) return undefined;
  return (name) => countRawHeader(raw as readonly unknown[], name);
}

function countRawHeader(raw: readonly unknown[], name: string): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i];
    if (key === name || (typeof key === "string" && key.length === name.length && key.toLowerCase() === name)) count++;
  }
  return count;
}
