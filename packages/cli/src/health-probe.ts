import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@connectauth/server";
import { type ReadinessItem, parseReadinessHeader, readinessHeader } from "@connectauth/server/protocol";
import { type Protocol, transportOf } from "./raw-call.js";

/** A status of `grpc.health.v1`, by its name. */
export type HealthStatusName = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** What {@link probeHealth} found of the server's `grpc.health.v1.Health`. */
export interface HealthFacts {
  /** The server's overall status (Check of `""`); `null` when that Check failed. */
  readonly status: HealthStatusName | null;
  /** The called service, as asked of Check. */
  readonly service: string;
  /** Its status; `null` when its Check failed (`NotFound`: not listed by the server). */
  readonly serviceStatus: HealthStatusName | null;
  /** The Connect code name of the failed Check of `""` (`"Unimplemented"`, `"Unauthenticated"`, …); `null` when it answered. */
  readonly error: string | null;
  /** The `connectauth-readiness` header of the Check of `""`: why, in fixed words. */
  readonly readiness: readonly ReadinessItem[];
}

/** Options of {@link probeHealth}. */
export interface HealthProbeOptions {
  readonly baseUrl: string;
  /** The called service, `package.Service`. */
  readonly service: string;
  readonly protocol: Protocol;
  readonly httpVersion: "1.1" | "2";
  readonly ca?: string;
  /** Per Check; at most 2000 ms whatever is asked. Default 2000. */
  readonly timeoutMs?: number;
}

/** A health Check never waits longer than this, so that doctor never hangs on one. */
const maxTimeoutMs = 2000;

/**
 * Asks `grpc.health.v1.Health/Check` of the server (`""`) and of the called service, over the
 * transport of the call (protocol, HTTP version, CA) and without a credential, as a load balancer
 * does; reads the `connectauth-readiness` header of the server's answer.
 *
 * ```ts
 * const health = await probeHealth({ baseUrl, service: "example.v1.GreeterService", protocol: "connect", httpVersion: "2" });
 * health.status; // "NOT_SERVING"
 * ```
 *
 * Not checked: what the statuses mean (healthVerdict and healthNotes judge them); never sends the token.
 */
export async function probeHealth(options: HealthProbeOptions): Promise<HealthFacts> {
  const client = createClient(Health, transportOf(options));
  const timeoutMs = Math.min(options.timeoutMs ?? maxTimeoutMs, maxTimeoutMs);
  const check = async (service: string) => {
    let header: string | null = null;
    try {
      const res = await client.check({ service }, { timeoutMs, onHeader: (h) => (header = h.get(readinessHeader)) });
      return { status: (ServingStatus[res.status] as HealthStatusName | undefined) ?? "UNKNOWN", error: null, header };
    } catch (e) {
      return { status: null, error: Code[ConnectError.from(e).code] ?? "Unknown", header };
    }
  };
  const [server, service] = await Promise.all([check(""), check(options.service)]);
  return {
    status: server.status,
    service: options.service,
    serviceStatus: service.status,
    error: server.error,
    readiness: parseReadinessHeader(server.header),
  };
}
