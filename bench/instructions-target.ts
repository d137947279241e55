// The loops counted by instructions.ts, `n` calls each, in process and with no transport:
// - "server": through the gate and the interceptor of createServerAuth (JWT, warm cache);
// - "server-none": the same loop without auth;
// - "client": through createAuthInterceptor with a static token, around a `next` that answers at once;
// - "client-hand-written": through an interceptor that only sets the header, what users would write.
import { type Interceptor, type UnaryRequest, createHandlerContext } from "@connectrpc/connect";
import { createAuthInterceptor } from "@connectauth/client";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createDevIssuer } from "@connectauth/node/dev";
import { GreeterService } from "../packages/example/src/gen/example/v1/greeter_pb.js";

type Next = Parameters<Interceptor>[0];
const [n, mode] = [Number(process.argv[2]), process.argv[3]];
const method = GreeterService.method.greet;
const next = (async (req: unknown) => req) as unknown as Next;
const issuer = await createDevIssuer({ issuer: "https://issuer.bench", audience: "greeter" });
const token = await issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: 3600 });

async function server(withAuth: boolean) {
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"], keys: issuer.jwks }),
    ],
  });
  const { requestGate: gate, interceptors } = auth.install({});
  const intercepted = interceptors[0]!(next);
  const header = new Headers({
    authorization: `Bearer ${token}`,
    "content-type": "application/proto",
    "connect-protocol-version": "1",
  });
  for (let i = 0; i < n; i++) {
    const context = createHandlerContext({
      service: GreeterService,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      url: "http://127.0.0.1/example.v1.GreeterService/Greet",
      requestHeader: header,
    });
    const req = {
      method,
      service: GreeterService,
      header: context.requestHeader,
      signal: context.signal,
      contextValues: context.values,
      stream: false,
      message: {},
    } as unknown as UnaryRequest;
    if (withAuth) {
      await gate(context);
      await intercepted(req);
    } else {
      await next(req);
    }
  }
}

async function client(interceptor: Interceptor) {
  const intercepted = interceptor(next);
  const req = {
    method,
    service: GreeterService,
    url: "https://api.example.com/example.v1.GreeterService/Greet",
    header: new Headers({ "content-type": "application/proto" }),
    contextValues: createHandlerContext({
      service: GreeterService,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      url: "https://x/",
    }).values,
    signal: new AbortController().signal,
    stream: false,
    message: {},
  } as unknown as UnaryRequest;
  for (let i = 0; i < n; i++) await intercepted(req);
}

const handWritten: Interceptor = (next) => async (req) => {
  req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};

if (mode === "server") await server(true);
else if (mode === "server-none") await server(false);
else if (mode === "client") await client(createAuthInterceptor({ token }));
else if (mode === "client-hand-written") await client(handWritten);
else throw new Error(`unknown mode ${mode}`);
