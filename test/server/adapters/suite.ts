// One end-to-end suite, run against every server setup: the same codes, reasons and challenges over each
// protocol the setup serves, and rejection before the body is read, measured on the server's socket.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { readAuthFailure } from "@connectauth/client";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { GreeterService } from "../../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../../packages/example/src/greeter-service.js";
import { type DevIssuer, createDevIssuer } from "@connectauth/node/dev";
import { transportFor } from "./clients.js";
import type { RunningServer, ServerTls, Setup } from "./setups.js";

/** The Greeter with connectauth as every adapter test wires it: gate and interceptor, realm "greeter". */
export function greeterServeOptions(issuer: DevIssuer) {
  const auth = createServerAuth({
    authenticators: [
      createJwtAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"], keys: issuer.jwks }),
    ],
    realm: "greeter",
  });
  return { routes: greeterRoutes, requestGate: auth.requestGate, interceptors: [auth.interceptor] };
}

/** The outcome of a call: "OK", or its code, reason and challenge. */
export async function outcomeOf(call: Promise<unknown>) {
  try {
    await call;
    return { code: "OK" as const, reason: undefined, challenge: null };
  } catch (e) {
    const error = ConnectError.from(e);
    return {
      code: error.code,
      reason: readAuthFailure(error)?.reason,
      challenge: error.metadata.get("www-authenticate"),
    };
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

/** Body size of the large requests. */
export const largeBody = 8 * 1024 * 1024;
/** The most a rejected large request may have had read of it. */
export const rejectedReadBound = 1024 * 1024;

/**
 * Registers the shared suite for one setup. `tls` (server certificate and the CA clients trust) is used
 * when the setup runs over TLS.
 */
export function adapterSuite(setup: Setup, tls: () => { server: ServerTls; ca: string }) {
  describe(setup.name, () => {
    let issuer: DevIssuer;
    let server: RunningServer;
    let greet: string;
    let admin: string;
    let expired: string;
    before(async () => {
      issuer = await createDevIssuer({ issuer: "https://issuer.test", audience: "greeter" });
      [greet, admin, expired] = await Promise.all([
        issuer.mint({ subject: "alice", scopes: ["greet"] }),
        issuer.mint({ subject: "root", scopes: ["greet", "admin"] }),
        issuer.mint({ subject: "alice", scopes: ["greet"], ttlSeconds: -3600 }),
      ]);
      const secure = setup.tls === "always";
      server = await setup.start({ ...greeterServeOptions(issuer), tls: secure ? tls().server : undefined });
    });
    after(() => server.close());

    const client = (protocol: Setup["protocols"][number], token?: string) =>
      createClient(
        GreeterService,
        transportFor(server.url, protocol, setup.httpVersion, {
          token,
          ca: setup.tls === "always" ? tls().ca : undefined,
        }),
      );

    for (const protocol of setup.protocols) {
      test(`${protocol}: codes, reasons and challenges`, async () => {
        assert.match((await client(protocol).ping({})).message, /anonymous/);
        assert.match((await client(protocol, greet).greet({ name: "Ada" })).greeting, /Ada.*alice/);
        assert.equal((await client(protocol, admin).whoAmI({})).subject, "root");
        assert.deepEqual(await outcomeOf(client(protocol).greet({})), {
          code: Code.Unauthenticated,
          reason: "MISSING_CREDENTIALS",
          challenge: 'Bearer realm="greeter"',
        });
        assert.deepEqual(await outcomeOf(client(protocol, expired).greet({})), {
          code: Code.Unauthenticated,
          reason: "TOKEN_EXPIRED",
          challenge: 'Bearer realm="greeter", error="invalid_token"',
        });
        assert.deepEqual(await outcomeOf(client(protocol, greet).admin({})), {
          code: Code.PermissionDenied,
          reason: "INSUFFICIENT_SCOPE",
          challenge: 'Bearer realm="greeter", error="insufficient_scope", scope="admin greet"',
        });
      });

      test(`${protocol}: server streaming, allowed and refused`, async () => {
        assert.equal(await drain(client(protocol, greet).greetStream({ name: "Ada", count: 4 })), 4);
        assert.deepEqual(await outcomeOf(drain(client(protocol).greetStream({ count: 4 }))), {
          code: Code.Unauthenticated,
          reason: "MISSING_CREDENTIALS",
          challenge: 'Bearer realm="greeter"',
        });
      });
    }

    for (const protocol of setup.protocols) {
      test(`${protocol}: an unauthenticated ${largeBody / 1048576} MB request is refused without reading its body`, async () => {
        const name = "x".repeat(largeBody);
        const refused = await outcomeOf(client(protocol).greet({ name }));
        assert.equal(refused.reason, "MISSING_CREDENTIALS");
        const readWhenRefused = await server.lastRequestBytesRead();
        assert.ok(
          readWhenRefused !== undefined && readWhenRefused < rejectedReadBound,
          `read ${readWhenRefused} bytes of a refused request`,
        );
        // The control: the same request with a token is read in full, so the measure does see body bytes.
        // (The first chunk of the body may arrive with the headers, before the measure starts.)
        assert.equal((await outcomeOf(client(protocol, greet).greet({ name }))).code, "OK");
        const readWhenServed = (await server.lastRequestBytesRead())!;
        assert.ok(readWhenServed >= largeBody - rejectedReadBound, `read ${readWhenServed} bytes of a served request`);
        console.log(
          `# ${setup.name}, ${protocol}: body bytes read after the headers: refused ${readWhenRefused}, served ${readWhenServed}`,
        );
      });
    }
  });
}
