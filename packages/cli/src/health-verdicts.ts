// The health verdicts of `connectauth doctor`, as a table: what `grpc.health.v1` said before the call,
// and why (the `connectauth-readiness` words). Pure: the Check is health-probe.ts, the walk diagnose.ts.
// A health verdict is printed before the call's; it never ends the walk.
import type { HealthFacts } from "./health-probe.js";
import { type Case, type Verdict, firstVerdict } from "./verdicts.js";

/** What the fixed words of an authenticator's readiness mean. */
const faults: Readonly<Record<string, string>> = {
  not_fetched: "not fetched yet",
  timeout: "the JWKS request timed out",
  network: "the JWKS request failed before any answer: refused, reset or DNS",
  http_status: "the JWKS answered an HTTP status other than 200",
  invalid_jwks: "the JWKS answer is not a JSON Web Key Set",
  no_keys: "the JWKS holds no key",
  discovery: "the discovery document could not be read or does not match the issuer",
  status_failed: "its status could not be read",
};

const notServing = (h: HealthFacts) => h.status === "NOT_SERVING" || h.serviceStatus === "NOT_SERVING";
const authDown = (h: HealthFacts) => h.readiness.filter((i) => i.kind === "auth" && i.word !== "ready");
const keysDown = (h: HealthFacts) => authDown(h).filter((i) => !i.word.startsWith("revocation_"));
const revocationDown = (h: HealthFacts) => authDown(h).filter((i) => i.word.startsWith("revocation_"));
const checksFailed = (h: HealthFacts) => h.readiness.filter((i) => i.kind === "check" && i.word === "failed");
const said = "(grpc.health.v1 says NOT_SERVING)";

/** The health verdicts, in the order they are asked. */
const healthCases: readonly Case<HealthFacts>[] = [
  {
    id: "server_not_ready",
    when: (h) => notServing(h) && keysDown(h).length > 0,
    says: (h) => ({
      summary: `the server cannot reach its keys ${said}: ${keysDown(h)
        .map((i) => `${i.name}: ${i.word}${faults[i.word] === undefined ? "" : ` (${faults[i.word]})`}`)
        .join("; ")}.`,
      fix: "on the server, check that it can reach its JWKS URL (DNS, egress, proxy, TLS); auth.status() there says more. Until then calls that need a token fail with Unavailable: retry later, do not refresh tokens.",
    }),
  },
  {
    id: "server_not_ready",
    when: (h) => notServing(h) && revocationDown(h).length > 0,
    says: (h) => ({
      summary: `the server's revocation list is not caught up ${said}: ${revocationDown(h)
        .map((i) => `${i.name}: ${i.word}`)
        .join("; ")}.`,
      fix: "on the server, check that it can reach the store its revocation list reads (Redis: its URL, network, credentials).",
    }),
  },
  {
    id: "server_not_ready",
    when: (h) => notServing(h) && checksFailed(h).length > 0,
    says: (h) => ({
      summary: `the server's own health checks fail ${said}: ${checksFailed(h)
        .map((i) => i.name)
        .join(", ")}.`,
      fix: "on the server, see what those checks of createHealthService({ checks }) test (a database, a dependency).",
    }),
  },
  {
    id: "server_not_ready",
    when: notServing,
    says: () => ({
      summary: `the server says it is not ready ${said}; a connectauth server says so until it can reach its keys.`,
      fix: "on the server, check what it depends on (auth.status() on a connectauth server), then ask again.",
    }),
  },
  {
    id: "ok",
    when: (h) => h.status === "SERVING",
    says: (h) => ({
      summary: `the server is ready (grpc.health.v1 says SERVING${h.serviceStatus === "SERVING" ? ` for ${h.service} too` : ""}).`,
      fix: "",
    }),
  },
];

/**
 * The health verdict of what `grpc.health.v1` answered: `server_not_ready` (with why, from the
 * readiness words) when it says NOT_SERVING, `ok` when SERVING, `undefined` otherwise (no health
 * service, a refused or failed Check, an unknown status: healthNotes says those).
 *
 * ```ts
 * healthVerdict(await probeHealth(options))?.id; // "server_not_ready"
 * ```
 *
 * Not checked: anything beyond the facts given (it makes no call).
 */
export function healthVerdict(h: HealthFacts): Verdict | undefined {
  return firstVerdict(healthCases, h);
}
