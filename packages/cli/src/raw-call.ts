import { type DescMethodUnary, create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

/** The protocols `doctor` can speak. */
export const protocols = ["connect", "grpc", "grpc-web"] as const;
/** One of {@link protocols}. */
export type Protocol = (typeof protocols)[number];

/** Options of {@link rawUnaryCall}. */
export interface RawUnaryCallOptions {
  readonly baseUrl: string;
  /** `"package.Service/Method"` (a leading `/` is accepted). */
  readonly method: string;
  readonly protocol: Protocol;
  readonly httpVersion: "1.1" | "2";
  /** The `Authorization` header value to send, or `undefined` for none. */
  readonly authorization?: string;
  /**
   * Makes the `DPoP` header of the request (RFC 9449), from its HTTP method and URL as the transport
   * sends them; `undefined` sends none.
   */
  readonly dpop?: (request: { readonly method: string; readonly url: string }) => Promise<string>;
  /** Extra trusted CA certificates (PEM), for `https` URLs. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/**
 * Calls a unary method with an empty request message, without its schema: the method is described at
 * runtime with an empty input and output type, which is all the wire needs (the request encodes to zero
 * bytes in the binary format; fields of the response are kept as unknown fields). Resolves to the
 * `ConnectError` of a failed call, `undefined` for a successful one.
 *
 * ```ts
 * const error = await rawUnaryCall({ baseUrl, method: "example.v1.GreeterService/Greet", protocol: "grpc", httpVersion: "2" });
 * ```
 *
 * Not checked: the answer (callOutcome reads it); a `dpop` proof is made for the request as sent, never
 * sent twice.
 *
 * @throws TypeError when `method` is not `package.Service/Method`.
 */
export async function rawUnaryCall(options: RawUnaryCallOptions): Promise<ConnectError | undefined> {
  const method = unaryMethodOf(options.method);
  const transport = transportOf(options);
  const header = new Headers();
  if (options.authorization !== undefined) header.set("authorization", options.authorization);
  try {
    await transport.unary(method, undefined, options.timeoutMs ?? 5000, header, {});
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

const methodSyntax = /^\/?((?:[A-Za-z_]\w*\.)*)([A-Za-z_]\w*)\/([A-Za-z_]\w*)$/;

/** Describes `package.Service/Method` as a unary method with empty messages. */
export function unaryMethodOf(fullName: string): DescMethodUnary {
  const match = methodSyntax.exec(fullName);
  if (match === null) {
    throw new TypeError(`"${fullName}" is not a method name of the form package.Service/Method`);
  }
  const pkg = match[1].replace(/\.$/, "");
  const [, , service, method] = match as unknown as [string, string, string, string];
  const empty = `${pkg === "" ? "" : `.${pkg}`}.ConnectauthDoctorEmpty`;
  const file = create(FileDescriptorProtoSchema, {
    name: "connectauth-doctor.proto",
    package: pkg,
    syntax: "proto3",
    messageType: [{ name: "ConnectauthDoctorEmpty" }],
    service: [{ name: service, method: [{ name: method, inputType: empty, outputType: empty }] }],
  });
  const desc = createFileRegistry(file, () => undefined).getService(pkg === "" ? service : `${pkg}.${service}`);
  if (desc === undefined) throw new TypeError(`"${fullName}" cannot be described`);
  return desc.methods[0] as DescMethodUnary;
}

/** Sets the request's `DPoP` header, made for its method and URL. */
function dpopInterceptor(dpop: NonNullable<RawUnaryCallOptions["dpop"]>): Interceptor {
  return (next) => async (req) => {
    req.header.set("dpop", await dpop({ method: req.requestMethod, url: req.url }));
    return next(req);
  };
}

/**
 * The transport of doctor's calls: the protocol, HTTP version and extra CA asked for, binary format,
 * and the DPoP interceptor when `dpop` is given (the diagnosed call and its health Check share it).
 *
 * ```ts
 * createClient(Health, transportOf({ baseUrl, protocol: "grpc", httpVersion: "2" })).check({});
 * ```
 *
 * Not checked: that gRPC gets HTTP/2 (the transport verdicts say so before any call).
 */
export function transportOf(o: Pick<RawUnaryCallOptions, "baseUrl" | "protocol" | "httpVersion" | "ca" | "dpop">): Transport {
  const tls = o.ca === undefined ? {} : { ca: o.ca };
  const interceptors = o.dpop === undefined ? [] : [dpopInterceptor(o.dpop)];
  const common = { baseUrl: o.baseUrl, useBinaryFormat: true, interceptors } as const;
  if (o.httpVersion === "2") {
    const h2 = { ...common, httpVersion: "2" as const, nodeOptions: tls };
    switch (o.protocol) {
      case "connect":
        return createConnectTransport(h2);
      case "grpc":
        return createGrpcTransport(h2);
      case "grpc-web":
        return createGrpcWebTransport(h2);
    }
  }
  const h1 = { ...common, httpVersion: "1.1" as const, nodeOptions: tls };
  switch (o.protocol) {
    case "connect":
      return createConnectTransport(h1);
    case "grpc":
      // gRPC needs HTTP/2; the caller checks that before.
      return createGrpcTransport({ ...common, nodeOptions: tls });
    case "grpc-web":
      return createGrpcWebTransport(h1);
  }
}
