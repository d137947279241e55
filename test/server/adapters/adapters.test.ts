// The shared adapter suite on every Node server setup (see setups.ts for which protocols each serves).
import { before } from "node:test";
import { createTestPki, type TestPki } from "../../support/certs.js";
import { adapterSuite } from "./suite.js";
import { setups } from "./setups.js";

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

for (const setup of setups) {
  adapterSuite(setup, () => ({ server: pki.server.tls, ca: pki.ca.certPem }));
}
