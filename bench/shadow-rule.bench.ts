// The cost of a candidate rule on the warm path: the request gate of one createServerAuth (an
// authenticator that accepts at once, so that the gate's own work is what is measured, and a decision
// listener, so that candidates are judged) for a method whose rule has a stricter candidate against a
// method with the same rule and no candidate, side by side. Judging a candidate of scopes costs well
// under a microsecond; most of a call here is the event's token hash (SHA-256) and the handler context.
import type { DescMethod } from "@bufbuild/protobuf";
import { createHandlerContext } from "@connectrpc/connect";
import { type Authenticator, accepted, createServerAuth } from "@connectauth/server";
import { GreeterService } from "../packages/example/src/gen/example/v1/greeter_pb.js";
import type { BenchOptions, BenchResult } from "./result.js";
import { perOp, sideBySide } from "./server-measure.js";

const identity = { subject: "alice", scopes: new Set(["greet"]), claims: { org: "acme" }, authenticator: "fixed" };
const fixed: Authenticator = { name: "fixed", schemes: ["bearer"], authenticate: async () => accepted(identity) };

export default async function bench({ quick }: BenchOptions): Promise<BenchResult[]> {
  const calls = quick ? 5000 : 50000;
  const rounds = quick ? 3 : 7;
  const auth = createServerAuth({
    authenticators: [fixed],
    onDecision: () => {},
    authorization: {
      services: [GreeterService],
      rules: {
        "example.v1.GreeterService/Greet": { allScopes: ["greet"], candidate: { allScopes: ["greet", "greet.v2"] } },
        "example.v1.GreeterService/WhoAmI": { allScopes: ["greet"] },
      },
    },
  });
  const gate = auth.requestGate;
  const call = (method: DescMethod) => () =>
    gate(
      createHandlerContext({
        service: GreeterService,
        method,
        protocolName: "connect",
        requestMethod: "POST",
        url: `http://127.0.0.1/${GreeterService.typeName}/${method.name}`,
        requestHeader: { authorization: "Bearer t" },
      }),
    );
  const shadowed = call(GreeterService.method.greet);
  const plain = call(GreeterService.method.whoAmI);
  await perOp(calls, shadowed);
  await perOp(calls, plain);
  const cost = await sideBySide(
    rounds,
    () => perOp(calls, shadowed),
    () => perOp(calls, plain),
  );
  return [
    {
      name: "server: request gate with a candidate rule (scopes) vs the same rule without, per allowed call (in process, listener on)",
      ratio: cost.a / cost.b,
      a: `with a candidate ${cost.a.toFixed(2)} µs/call`,
      b: `without ${cost.b.toFixed(2)} µs/call`,
      target: "<= 1.10",
    },
  ];
}
