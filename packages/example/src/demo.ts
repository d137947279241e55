// npm start: the example server with its embedded issuer (DPoP allowed), and a Node client through the
// demo cases, the DPoP ones included. With redis-server on the PATH, a fleet of two on a Redis it
// starts, and a token revoked on one refused by the other.
import { demoCases, dpopDemoCases, formatTable, runDemoCases } from "./demo-cases.js";
import { runFleetDemo } from "./demo-fleet.js";
import { startRedisProcess } from "./redis-process.js";
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

const redis = await startRedisProcess();
if (redis === undefined) {
  console.log(
    "\nfleet on Redis: skipped, no redis-server on the PATH (install it to see a fleet: apt install redis-server, or brew install redis)",
  );
} else {
  try {
    console.log(`\nfleet on Redis: instances A and B share revocations through ${redis.url}\n`);
    const fleet = await runFleetDemo(redis.url);
    console.log(formatTable(fleet));
    const passed = fleet.every((r) => r.pass);
    console.log(passed ? "\nB refused the token revoked on A, on every protocol." : "\nB did NOT refuse the token revoked on A.");
    if (!passed) process.exitCode = 1;
  } finally {
    await redis.stop();
  }
}
