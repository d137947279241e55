// Calls to the example Greeter server with raw request headers, over any protocol, and the checks every
// refused call must pass: code, reason, detail, and nothing of the credential echoed back.
import assert from "node:assert/strict";
import { type Code, type ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/core";
import { exampleTransport, type Protocol } from "../../packages/example/src/demo-cases.js";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { failure } from "./failure.js";

export { protocols, type Protocol } from "../../packages/example/src/demo-cases.js";

/** Request headers to send as they are; a list value sends the header several times. */
export type RawHeaders = Record<string, string | readonly string[]>;

/** A client interceptor that appends exactly these request headers (for any client, any protocol). */
export const withHeaders =
  (headers: RawHeaders): Interceptor =>
  (next) =>
  (req) => {
    for (const [name, value] of Object.entries(headers)) {
      for (const v of typeof value === "string" ? [value] : value) req.header.append(name, v);
    }
    return next(req);
  };

export type Method = "greet" | "whoAmI" | "admin" | "ping";

/** A Greeter client sending exactly these headers. */
export function rawClient(baseUrl: string, protocol: Protocol, headers: RawHeaders) {
  return createClient(GreeterService, exampleTransport(baseUrl, protocol, undefined, [withHeaders(headers)]));
}

export const bearer = (token: string): RawHeaders => ({ authorization: `Bearer ${token}` });

/** Calls a unary method and returns the error it failed with (fails the test if it succeeded). */
export async function refusal(baseUrl: string, protocol: Protocol, headers: RawHeaders, method: Method = "greet") {
  const refused = await failure(
    rawClient(baseUrl, protocol, headers)[method]({}),
    `expected ${method} over ${protocol} to be refused`,
  );
  return refused.error;
}

/** Everything the caller can see of an error, as text. */
export function visibleText(error: ConnectError): string {
  const details = error.details.map((d) =>
    d.value instanceof Uint8Array ? Buffer.from(d.value).toString("latin1") : JSON.stringify(d),
  );
  return [error.message, error.rawMessage, JSON.stringify([...error.metadata]), ...details, String(error.cause ?? "")].join("\n");
}

/** Asserts code, reason, optional `ErrorInfo.metadata.detail`, and that no part of any secret is echoed. */
export function assertRefused(
  error: ConnectError,
  expected: { code: Code; reason: string; detail?: string },
  secrets: readonly string[],
  what = "",
): void {
  const failure = readAuthFailure(error);
  assert.equal(error.code, expected.code, `code ${what}: ${error.rawMessage}`);
  assert.equal(failure?.reason, expected.reason, `reason ${what}: ${error.rawMessage}`);
  if (expected.detail !== undefined) assert.equal(failure?.metadata["detail"], expected.detail, `detail ${what}`);
  assertNotEchoed(error, secrets);
}

export function assertNotEchoed(error: ConnectError, secrets: readonly string[]): void {
  const text = visibleText(error);
  for (const secret of secrets) {
    for (const part of [secret, ...secret.split(".").filter((p) => p.length >= 16)]) {
      assert.ok(!text.includes(part), "a credential (or a segment of it) must not be echoed");
    }
  }
}
