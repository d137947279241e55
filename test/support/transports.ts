// Node transports of each protocol for the suites' own servers (HTTP/2 cleartext on 127.0.0.1), with
// the interceptors a suite sends its credentials through.
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type { Protocol } from "../../packages/example/src/demo-cases.js";

/**
 * A transport of `protocol` to `baseUrl`: Connect and gRPC-web over `httpVersion` (HTTP/2 by default),
 * gRPC over HTTP/2 always.
 *
 * ```ts
 * const client = createClient(GreeterService, transportOf(url, "grpc-web", [withHeaders(bearer(token))]));
 * ```
 *
 * Not for TLS servers (test/server/adapters/clients.ts has those), nor the example server's own
 * choice of versions (exampleTransport).
 */
export function transportOf(
  baseUrl: string,
  protocol: Protocol,
  interceptors: Interceptor[] = [],
  httpVersion: "1.1" | "2" = "2",
): Transport {
  switch (protocol) {
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion, interceptors });
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion, interceptors });
  }
}
