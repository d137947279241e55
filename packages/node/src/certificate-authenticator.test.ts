import { test } from "node:test";
import assert from "node:assert/strict";
import { createContextValues } from "@connectrpc/connect";
import { type PeerCertificate, peerCertificateKey } from "./peer-certificate.js";
import { createCertificateAuthenticator, identifyBySpiffeId } from "./certificate-authenticator.js";

const billing = "spiffe://example.org/ns/prod/sa/billing";
const certificate = (over: Partial<PeerCertificate> = {}): PeerCertificate => ({
  subject: "CN=billing",
  commonName: "billing",
  dnsNames: [],
  uris: [billing],
  spiffeId: billing,
  thumbprintSha256: "thumb",
  verified: true,
  verificationError: undefined,
  der: new Uint8Array(),
  ...over,
});
const call = (cert?: PeerCertificate) => ({
  values: createContextValues().set(peerCertificateKey, cert),
  requestHeader: new Headers(),
  requestMethod: "POST",
  url: "https://api.example.com/example.v1.GreeterService/Greet",
});
const mtls = createCertificateAuthenticator({ identify: identifyBySpiffeId({ [billing]: ["greet"] }) });

test("a verified, known certificate is an identity with the mapped scopes and its thumbprint", async () => {
  const outcome = await mtls.authenticateConnection!(call(certificate()));
  assert.ok(outcome?.ok);
  assert.equal(outcome.identity.subject, billing);
  assert.deepEqual([...outcome.identity.scopes], ["greet"]);
  assert.equal(outcome.identity.claims["x5t#S256"], "thumb");
  assert.equal(outcome.identity.authenticator, "mtls");
});

test("no certificate is no credential; unverified or unknown ones are refused", async () => {
  assert.equal(await mtls.authenticateConnection!(call()), undefined);
  const unverified = await mtls.authenticateConnection!(call(certificate({ verified: false })));
  assert.deepEqual(unverified?.ok === false && [unverified.reason, unverified.detail], [
    "INVALID_CLIENT_CERTIFICATE",
    "unverified",
  ]);
  const unknown = await mtls.authenticateConnection!(call(certificate({ spiffeId: "spiffe://example.org/x", uris: [] })));
  assert.equal(unknown?.ok === false && unknown.detail, "unknown_identity");
  const none = await mtls.authenticateConnection!(call(certificate({ spiffeId: undefined })));
  assert.equal(none?.ok === false && none.reason, "INVALID_CLIENT_CERTIFICATE");
});

test("it takes no Authorization scheme, and needs an identify function", () => {
  assert.deepEqual(mtls.schemes, []);
  assert.throws(() => createCertificateAuthenticator({} as never), TypeError);
});
