// mTLS identity on every TLS-capable setup: the verified client certificate (subject, SAN DNS names,
// SPIFFE ID, SHA-256 thumbprint) read from the socket by nodeContextValues, mapped to an identity and
// scopes; unverified, unknown and missing certificates refused with the contract's codes; RFC 8705
// certificate-bound tokens accepted only over a connection presenting their certificate.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, createClient } from "@connectrpc/connect";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import {
  type PeerCertificate,
  createCertificateAuthenticator,
  createCertificateBoundAuthenticator,
  identifyBySpiffeId,
  nodeContextValues,
  peerCertificateKey,
} from "@connectauth/node";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { greeterRoutes } from "../../packages/example/src/greeter-service.js";
import { type TestCertificate, type TestPki, createTestPki, spiffeIds } from "../support/certs.js";
import { transportFor } from "./adapters/clients.js";
import { outcomeOf } from "./adapters/suite.js";
import { type RunningServer, setups } from "./adapters/setups.js";

const issuer = "https://issuer.test";
const audience = "greeter";
const keys = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256" }] };
const pki: TestPki = await createTestPki();

function mint(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: "alice", scope: "greet", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(keys.privateKey);
}

for (const setup of setups.filter((s) => s.tls !== "never")) {
  describe(`mTLS on ${setup.name}`, () => {
    let server: RunningServer;
    const seen: (PeerCertificate | undefined)[] = [];
    before(async () => {
      const auth = createServerAuth({
        authenticators: [
          createCertificateBoundAuthenticator({
            authenticator: createJwtAuthenticator({ issuer, audience, algorithms: ["ES256"], keys: jwks }),
          }),
          createCertificateAuthenticator({
            identify: identifyBySpiffeId({ [spiffeIds.billing]: ["greet"] }),
          }),
        ],
        realm: "greeter",
      });
      server = await setup.start({
        ...auth.install({ routes: greeterRoutes }),
        contextValues: (req) => {
          const values = nodeContextValues(req);
          seen.push(values.get(peerCertificateKey));
          return values;
        },
        tls: { ...pki.server.tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false },
      });
    });
    after(() => server.close());

    const client = (protocol: (typeof setup.protocols)[number], cert?: TestCertificate, token?: string) =>
      createClient(
        GreeterService,
        transportFor(server.url, protocol, setup.httpVersion, { ca: pki.ca.certPem, ...cert?.tls, token }),
      );

    test("the peer certificate as read from the socket", async () => {
      seen.length = 0;
      await client("connect", pki.clients.billing).ping({});
      await client("connect", pki.untrustedClient)
        .ping({})
        .catch(() => undefined);
      await client("connect").ping({});
      const [billing, untrusted, none] = seen;
      assert.ok(billing !== undefined && untrusted !== undefined);
      assert.match(billing.subject, /CN=billing/);
      assert.equal(billing.commonName, "billing");
      assert.deepEqual(billing.dnsNames, ["billing.prod.example.org"]);
      assert.deepEqual(billing.uris, [spiffeIds.billing]);
      assert.equal(billing.spiffeId, spiffeIds.billing);
      assert.equal(billing.thumbprintSha256, pki.clients.billing.thumbprintSha256);
      assert.deepEqual([billing.verified, billing.verificationError], [true, undefined]);
      assert.equal(untrusted.verified, false);
      assert.ok(untrusted.verificationError, "the reason verification failed");
      assert.equal(none, undefined);
      if (setup.httpVersion === "2") {
        // Two calls on one HTTP/2 connection: the certificate is read once, for the connection.
        seen.length = 0;
        const c = client("connect", pki.clients.billing);
        await c.ping({});
        await c.ping({});
        assert.equal(seen.length, 2);
        assert.equal(seen[0], seen[1]);
      }
    });

    for (const protocol of setup.protocols) {
      test(`${protocol}: a known certificate is an identity with scopes; others are refused`, async () => {
        const me = await client(protocol, pki.clients.billing).whoAmI({});
        assert.deepEqual([me.subject, me.scopes, me.authenticator], [spiffeIds.billing, ["greet"], "mtls"]);
        assert.match((await client(protocol, pki.clients.billing).greet({ name: "x" })).greeting, /billing/);
        assert.deepEqual(await outcomeOf(client(protocol, pki.clients.billing).admin({})), {
          code: Code.PermissionDenied,
          reason: "INSUFFICIENT_SCOPE",
          challenge: 'Bearer realm="greeter", error="insufficient_scope", scope="admin greet"',
        });
        const refused = { code: Code.Unauthenticated, reason: "INVALID_CLIENT_CERTIFICATE", challenge: null };
        assert.deepEqual(await outcomeOf(client(protocol, pki.clients.reports).greet({})), refused);
        assert.deepEqual(await outcomeOf(client(protocol, pki.untrustedClient).greet({})), refused);
        // Even on a public method: a presented credential must be valid.
        assert.deepEqual(await outcomeOf(client(protocol, pki.untrustedClient).ping({})), refused);
        assert.deepEqual(await outcomeOf(client(protocol).greet({})), {
          code: Code.Unauthenticated,
          reason: "MISSING_CREDENTIALS",
          challenge: 'Bearer realm="greeter"',
        });
        assert.match((await client(protocol).ping({})).message, /anonymous/);
      });

      test(`${protocol}: a certificate-bound token (RFC 8705) works only with its certificate`, async () => {
        const bound = await mint({ cnf: { "x5t#S256": pki.clients.billing.thumbprintSha256 } });
        const me = await client(protocol, pki.clients.billing, bound).whoAmI({});
        assert.deepEqual([me.subject, me.authenticator], ["alice", "jwt"]);
        const mismatch = {
          code: Code.Unauthenticated,
          reason: "INVALID_TOKEN",
          challenge: 'Bearer realm="greeter", error="invalid_token"',
        };
        assert.deepEqual(await outcomeOf(client(protocol, pki.clients.reports, bound).whoAmI({})), mismatch);
        assert.deepEqual(await outcomeOf(client(protocol, undefined, bound).whoAmI({})), mismatch);
        // An unbound token needs no certificate.
        assert.equal((await client(protocol, undefined, await mint({})).whoAmI({})).subject, "alice");
      });
    }
  });
}
