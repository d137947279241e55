import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { createContextValues } from "@connectrpc/connect";
import { headerValueCountKey } from "@connectauth/server/protocol";
import { createTestPki } from "../../../test/support/certs.js";
import { nodeContextValues } from "./node-context-values.js";
import { getPeerCertificate } from "./peer-certificate.js";

const pki = await createTestPki();
const socketPresenting = (der: Uint8Array) => ({
  getPeerCertificate: () => ({ raw: Buffer.from(der) }),
  authorized: true,
  authorizationError: null,
});

test("nodeContextValues reads the certificate once per socket, from Node's, HTTP/2's or Fastify's request", () => {
  const socket = socketPresenting(pki.clients.billing.der);
  const direct = getPeerCertificate({ values: nodeContextValues({ socket }) });
  const http2 = nodeContextValues({ socket: {}, stream: { session: { socket } } } as never);
  const fastify = nodeContextValues({ socket: {}, raw: { socket } });
  assert.ok(direct);
  assert.equal(getPeerCertificate({ values: http2 }), direct);
  assert.equal(getPeerCertificate({ values: fastify }), direct);
  const mine = createContextValues();
  assert.equal(nodeContextValues({ socket }, mine), mine, "adds to the values it is given");
});

test("nodeContextValues counts each header as it came on the wire, whatever its case", () => {
  const rawHeaders = [
    "Authorization",
    "Bearer a",
    "x-api-key",
    "k1",
    "authorization",
    "Bearer b",
    "X-API-KEY",
    "k2",
    "x-api-keys",
    "k3",
  ];
  for (const request of [{ rawHeaders }, { raw: { rawHeaders } }]) {
    const count = nodeContextValues(request).get(headerValueCountKey);
    assert.ok(count);
    assert.deepEqual(
      ["authorization", "x-api-key", "x-api-keys", "cookie"].map((name) => count(name)),
      [2, 2, 1, 0],
    );
  }
  assert.equal(nodeContextValues({ socket: {} }).get(headerValueCountKey), undefined, "nothing to count");
});

test("nodeContextValues counts what a node:http server with default options hides from req.headers", async () => {
  let seen: { headers: http.IncomingHttpHeaders; count: number | undefined } | undefined;
  const server = http.createServer((req, res) => {
    seen = { headers: req.headers, count: nodeContextValues(req).get(headerValueCountKey)?.("authorization") };
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () =>
        socket.end(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\nConnection: close\r\n\r\n`,
        ),
      );
      socket.on("data", () => {});
      socket.once("end", resolve);
      socket.once("error", reject);
    });
    assert.equal(seen?.headers.authorization, "Bearer a", "Node keeps the first Authorization only");
    assert.equal(seen?.count, 2);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
