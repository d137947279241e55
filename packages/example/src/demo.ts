// npm start: the example server with its embedded issuer (DPoP allowed), and a Node client through the
// demo cases, the DPoP ones included.
import { demoCases, dpopDemoCases, formatTable, runDemoCases } from "./demo-cases.js";
import { startExampleServer } from "./server.js";

const server = await startExampleServer({ dpop: "allowed" });
console.log(`connectauth demo: Greeter server listening on ${server.url} (Connect, gRPC, gRPC-web; HTTP/2 and HTTP/1.1)\n`);
try {
  if (server.devIssuer === undefined) throw new Error("the demo needs the example server's development issuer");
  const results = await runDemoCases(server.url, server.devIssuer, [...demoCases, ...dpopDemoCases]);
  console.log(formatTable(results));
  const failed = results.filter((r) => !r.pass);
  console.log(
    failed.length === 0
      ? `\nAll ${results.length} calls ended as the contract says.`
      : `\n${failed.length} of ${results.length} calls did NOT end as the contract says.`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
} finally {
  await server.close();
}
