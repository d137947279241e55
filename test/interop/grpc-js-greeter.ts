// The Greeter for @grpc/grpc-js, built from the protobuf-es descriptors (no proto loader): a service
// definition usable both by a grpc-js client and by a grpc-js server, and a grpc-js Greeter server whose
// answers a test chooses (for our client's view of another gRPC implementation's auth errors).
import * as grpc from "@grpc/grpc-js";
import { type DescMessage, type MessageInitShape, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";

function codec<D extends DescMessage>(schema: D) {
  return {
    serialize: (m: MessageInitShape<D>) => Buffer.from(toBinary(schema, create(schema, m))),
    deserialize: (b: Buffer) => fromBinary(schema, b),
  };
}

/** The grpc-js service definition of `example.v1.GreeterService`, keyed by the methods' local names. */
export const greeterDefinition: grpc.ServiceDefinition = Object.fromEntries(
  GreeterService.methods.map((m) => {
    const input = codec(m.input);
    const output = codec(m.output);
    return [
      m.localName,
      {
        path: `/${GreeterService.typeName}/${m.name}`,
        requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
        responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
        requestSerialize: input.serialize,
        requestDeserialize: input.deserialize,
        responseSerialize: output.serialize,
        responseDeserialize: output.deserialize,
      },
    ];
  }),
);

/** A grpc-js client constructor of the Greeter. */
export const GreeterGrpcJsClient = grpc.makeGenericClientConstructor(greeterDefinition, "GreeterService");

/**
 * A grpc-js `ServiceError` payload carrying a `ConnectError` the gRPC way: code, message, and the
 * error's details (`google.rpc.ErrorInfo`) in `grpc-status-details-bin`, its metadata (the challenge)
 * in the trailers. connect's own `setTrailerStatus` encodes the status, so the bytes are what a Connect
 * server would send.
 */
export function toGrpcJsError(error: ConnectError): Partial<grpc.StatusObject> {
  const trailer = new Headers();
  setTrailerStatus(trailer, error);
  const metadata = new grpc.Metadata();
  for (const [k, v] of trailer) {
    if (k === "grpc-status" || k === "grpc-message") continue;
    metadata.set(k, k.endsWith("-bin") ? Buffer.from(v, "base64") : v);
  }
  return { code: error.code as number as grpc.status, details: error.rawMessage, metadata };
}

/** What a grpc-js Greeter server saw of one call. */
export interface SeenCall {
  readonly method: string;
  readonly authorization: string | undefined;
}

/**
 * Starts a grpc-js Greeter server on 127.0.0.1 (h2c) whose `greet` and `whoAmI` answer with
 * `decide(authorization)`: a `ConnectError` to refuse, or a text to succeed.
 */
export async function startGrpcJsGreeter(decide: (authorization: string | undefined) => ConnectError | string) {
  const seen: SeenCall[] = [];
  const server = new grpc.Server();
  const unary =
    (method: string, reply: (text: string) => object) =>
    (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const value = call.metadata.get("authorization")[0];
      const authorization = typeof value === "string" ? value : undefined;
      seen.push({ method, authorization });
      const answer = decide(authorization);
      if (typeof answer === "string") callback(null, reply(answer));
      else callback(toGrpcJsError(answer) as grpc.ServiceError);
    };
  server.addService(greeterDefinition, {
    greet: unary("greet", (greeting) => ({ greeting })),
    whoAmI: unary("whoAmI", (subject) => ({ subject, scopes: [], authenticator: "grpc-js" })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
