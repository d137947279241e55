// Node clients of the three protocols for a running setup, with an optional token and TLS identity.
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createAuthInterceptor } from "@connectauth/client";
import type { Protocol } from "./setups.js";

export interface ClientOptions {
  readonly token?: string;
  /** TLS: the CA to trust, and for mTLS the client certificate and key. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly interceptors?: Interceptor[];
}

/** A transport of one protocol to `baseUrl` over `httpVersion` (gRPC is always HTTP/2). */
export function transportFor(
  baseUrl: string,
  protocol: Protocol,
  httpVersion: "1.1" | "2",
  options: ClientOptions = {},
): Transport {
  const interceptors = [...(options.interceptors ?? [])];
  if (options.token !== undefined) interceptors.push(createAuthInterceptor({ token: options.token }));
  const tls = options.ca === undefined ? {} : { ca: options.ca, cert: options.cert, key: options.key };
  const base = { baseUrl, interceptors };
  switch (protocol) {
    case "connect":
      return httpVersion === "2"
        ? createConnectTransport({ ...base, httpVersion, nodeOptions: tls })
        : createConnectTransport({ ...base, httpVersion, nodeOptions: { ...tls, agent: false } });
    case "grpc":
      return createGrpcTransport({ ...base, nodeOptions: tls });
    case "grpc-web":
      return httpVersion === "2"
        ? createGrpcWebTransport({ ...base, httpVersion, nodeOptions: tls })
        : createGrpcWebTransport({ ...base, httpVersion, nodeOptions: { ...tls, agent: false } });
  }
}
