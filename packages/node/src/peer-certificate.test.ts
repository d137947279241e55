import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestCa, createTestPki, spiffeIds } from "../../../test/support/certs.js";
import { readPeerCertificate } from "./peer-certificate.js";

const pki = await createTestPki();
const socketPresenting = (der: Uint8Array | undefined, authorized = true) => ({
  getPeerCertificate: () => (der === undefined ? {} : { raw: Buffer.from(der) }),
  authorized,
  authorizationError: authorized ? null : "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
});

test("reads subject, SAN DNS names and URIs, the SPIFFE ID and the RFC 8705 thumbprint", () => {
  const cert = readPeerCertificate(socketPresenting(pki.clients.billing.der));
  assert.ok(cert);
  assert.equal(cert.subject, "CN=billing, O=connectauth tests");
  assert.equal(cert.commonName, "billing");
  assert.deepEqual(cert.dnsNames, ["billing.prod.example.org"]);
  assert.deepEqual(cert.uris, [spiffeIds.billing]);
  assert.equal(cert.spiffeId, spiffeIds.billing);
  assert.equal(cert.thumbprintSha256, pki.clients.billing.thumbprintSha256);
  assert.deepEqual([cert.verified, cert.verificationError], [true, undefined]);
  const server = readPeerCertificate(socketPresenting(pki.server.der));
  assert.deepEqual([server?.dnsNames, server?.uris, server?.spiffeId], [["localhost"], [], undefined]);
});

test("an unverified certificate is returned as such; no certificate or no TLS is undefined", () => {
  const cert = readPeerCertificate(socketPresenting(pki.untrustedClient.der, false));
  assert.deepEqual([cert?.verified, cert?.verificationError], [false, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
  assert.equal(readPeerCertificate(socketPresenting(undefined)), undefined);
  assert.equal(readPeerCertificate({ remoteAddress: "127.0.0.1" }), undefined);
  assert.equal(readPeerCertificate(undefined), undefined);
});

test("two spiffe URIs are not one SPIFFE ID", async () => {
  const ca = await createTestCa("two ids");
  const two = await ca.issue({ commonName: "x", usage: "client", uris: [spiffeIds.billing, spiffeIds.reports] });
  assert.equal(readPeerCertificate(socketPresenting(two.der))?.spiffeId, undefined);
});
