// The loops counted by instructions.ts, in process and with no transport: `warm-up` calls, then a
// "mark" line on stdout (instructions.ts reads the instruction counter and answers with a line on
// stdin), `n` calls, and another mark. The loops:
// - "server": through the gate and the interceptor of createServerAuth (JWT, warm cache);
// - "server-none": the same loop without auth;
// - "client": through createAuthInterceptor with a static token, around a `next` that answers at once;
// - "client-hand-written": through an interceptor that only sets the header, what users would write.
import { type Interceptor, type UnaryRequest, createHandlerContext } from "@connectrpc/connect";
import { createAuthInterceptor } from "@connectauth/client";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { readFileSync, readSync } from "node:fs";
import { GreeterService } from "../packages/example/src/gen/example/v1/greeter_pb.js";

type Next = Parameters<Interceptor>[0];
const [warmUp, n, mode, fixture] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], process.argv[5]];
const method = GreeterService.method.greet;
const next = (async (req: unknown) => req) as unknown as Next;
// The same token and keys in every run (minted once by instructions.ts): a run's count depends on
// the token's bytes, through string hashes and the cache's map.
const { issuer, token } = JSON.parse(readFileSync(fixture ?? "", "utf8")) as {
  issuer: { issuer: string; audience: string; jwks: { keys: JsonWebKey[] } };
  token: string;
};

type Loop = (calls: number) => Promise<void>;

function server(withAuth: boolean): Loop {
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
  return async (calls) => {
    for (let i = 0; i < calls; i++) {
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
  };
}

function client(interceptor: Interceptor): Loop {
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
  return async (calls) => {
    for (let i = 0; i < calls; i++) await intercepted(req);
  };
}

const handWritten: Interceptor = (next) => async (req) => {
  req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};

const loops: Record<string, () => Loop> = {
  server: () => server(true),
  "server-none": () => server(false),
  client: () => client(createAuthInterceptor({ token })),
  "client-hand-written": () => client(handWritten),
};
const loop = loops[mode ?? ""];
if (loop === undefined) throw new Error(`unknown mode ${mode}`);

/** Says "mark" and waits for instructions.ts to have read the counter. */
function mark(): void {
  process.stdout.write("mark\n");
  readSync(0, Buffer.alloc(1));
}

const run = loop();
await run(warmUp);
// Every window starts from the same heap: what the warm-up left is collected first.
(globalThis as { gc?: () => void }).gc?.();
mark();
await run(n);
mark();
