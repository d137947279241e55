import { test } from "node:test";
import assert from "node:assert/strict";
import { createContextValues } from "@connectrpc/connect";
import { type Authenticator, accepted } from "@connectauth/server";
import { type PeerCertificate, peerCertificateKey } from "./peer-certificate.js";
import { createCertificateBoundAuthenticator } from "./certificate-bound-authenticator.js";

// The inner authenticator reads the claims from the "token" (JSON), to vary cnf per call.
const inner: Authenticator = {
  name: "jwt",
  schemes: ["bearer"],
  authenticate: async ({ value }) =>
    accepted({ subject: "alice", scopes: new Set(), claims: JSON.parse(value), authenticator: "jwt" }),
};
const presenting = (thumbprintSha256?: string) => ({
  values: createContextValues().set(
    peerCertificateKey,
    thumbprintSha256 === undefined ? undefined : ({ thumbprintSha256, verified: false } as PeerCertificate),
  ),
  requestHeader: new Headers(),
  requestMethod: "POST",
  url: "https://api.example.com/example.v1.GreeterService/Greet",
});
const token = (claims: object) => ({ scheme: "bearer", value: JSON.stringify(claims) });
const bound = token({ cnf: { "x5t#S256": "abc" } });

test("a bound token passes only with the certificate of that thumbprint (verified by the CA or not)", async () => {
  const auth = createCertificateBoundAuthenticator({ authenticator: inner });
  assert.ok((await auth.authenticate(bound, presenting("abc"))).ok);
  for (const call of [presenting("other"), presenting(), undefined]) {
    const outcome = await auth.authenticate(bound, call);
    assert.deepEqual(outcome.ok === false && [outcome.reason, outcome.detail], ["INVALID_TOKEN", "cnf_mismatch"]);
  }
  const notAString = await auth.authenticate(token({ cnf: { "x5t#S256": 1 } }), presenting("1"));
  assert.equal(notAString.ok, false);
});

test("unbound tokens pass unless binding is required", async () => {
  assert.ok((await createCertificateBoundAuthenticator({ authenticator: inner }).authenticate(token({}))).ok);
  const strict = createCertificateBoundAuthenticator({ authenticator: inner, requireBinding: true });
  const outcome = await strict.authenticate(token({}), presenting("abc"));
  assert.equal(outcome.ok === false && outcome.detail, "cnf_missing");
  assert.throws(() => createCertificateBoundAuthenticator({} as never), TypeError);
});
