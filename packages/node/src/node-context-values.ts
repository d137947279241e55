import { type ContextValues, createContextValues } from "@connectrpc/connect";
import { headerValueCountKey } from "@connectauth/server/protocol";
import { peerCertificateKey, readPeerCertificate } from "./peer-certificate.js";
import { rawHeaderCounter } from "./raw-header-count.js";

/**
 * The request a `contextValues` hook is given: Node's (`connectNodeAdapter`, `expressConnectMiddleware`)
 * or Fastify's (`fastifyConnectPlugin`), which holds Node's as `raw`.
 */
export interface NodeContextRequest {
  readonly socket?: unknown;
  readonly raw?: unknown;
  readonly rawHeaders?: unknown;
}

/**
 * The `contextValues` hook of `connectNodeAdapter`, `fastifyConnectPlugin` and
 * `expressConnectMiddleware` alike: puts in the context values what only Node knows of the request.
 * - The TLS client certificate of the connection (`getPeerCertificate(ctx)`, for the certificate and
 *   certificate-bound authenticators), read once per connection.
 * - How many times each header came on the wire (`headerValueCountKey` of `@connectauth/server/protocol`),
 *   from `rawHeaders`: with it the server refuses two `Authorization` headers, or two of a header an
 *   authenticator names, as `MULTIPLE_CREDENTIALS`, where connect's `Headers` show only the first
 *   (Node drops the second `Authorization` on HTTP/2, and on HTTP/1.1 unless `joinDuplicateHeaders`).
 *
 * `values`: context values made for this very request, to add to (e.g. by your own hook); never an
 * object kept and shared across requests, which the server refuses at the call.
 *
 * ```ts
 * http2.createServer(connectNodeAdapter(auth.install({ routes, contextValues: nodeContextValues })));
 * // Your own values too:
 * contextValues: (req) => nodeContextValues(req, createContextValues().set(tenantKey, tenantOf(req))),
 * ```
 *
 * Not checked here: the certificate (the authenticators judge it) and the header values; the counts
 * are read lazily, only when the server asks. A request without `rawHeaders` (not Node's) gets no count.
 */
export function nodeContextValues(request: NodeContextRequest, values: ContextValues = createContextValues()): ContextValues {
  const node = nodeRequestOf(request);
  return values
    .set(peerCertificateKey, readPeerCertificate(connectionSocket(node)))
    .set(headerValueCountKey, rawHeaderCounter(node));
}

type NodeRequest = {
  readonly socket?: unknown;
  readonly rawHeaders?: unknown;
  readonly stream?: { readonly session?: { readonly socket?: unknown } };
};

/** Node's request: Fastify passes its own, which holds Node's as `raw`. */
function nodeRequestOf(request: NodeContextRequest): NodeRequest {
  return (typeof request.raw === "object" && request.raw !== null ? request.raw : request) as NodeRequest;
}

/**
 * The socket of the request's connection. For HTTP/2 that is the session's socket, one per connection
 * (each stream's `req.socket` is a proxy of its own), so the certificate is read once per connection.
 */
function connectionSocket(request: NodeRequest): unknown {
  return request.stream?.session?.socket ?? request.socket;
}
