// DPoP-bound tokens from the OAuth2 source (oauth4webapi's DPoP): from a real authorization server
// (oidc-provider on loopback, DPoP on by default), and from a small token endpoint here that checks each
// proof with jose and asks for a nonce first. The source's tokens then go out as DPoP through the
// interceptor.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createAuthInterceptor, readAuthFailure } from "@connectauth/client";
import { type DpopProver, createDpopProver } from "@connectauth/client/dpop";
import { createOAuth2TokenSource } from "@connectauth/client/oauth2";
import { EmbeddedJWK, type JWK, type JWTPayload, calculateJwkThumbprint, jwtVerify } from "jose";
import { GreeterService } from "../../packages/example/src/gen/example/v1/greeter_pb.js";
import { listenOnLoopback } from "../support/listen.js";
import { type TestOAuthServer, startOAuthServer } from "../support/oauth-server.js";

const keyPair = () =>
  crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as JWTPayload;

let as: TestOAuthServer;
before(async () => {
  as = await startOAuthServer();
});
after(async () => {
  await as.close();
});

test("oidc-provider: client_credentials with dpop gives a DPoP token bound to the prover's key (cnf.jkt)", async () => {
  const dpop = createDpopProver({ keyPair: await keyPair() });
  const token = createOAuth2TokenSource({
    issuer: as.issuer,
    audience: as.audience,
    audienceParameter: "resource",
    scopes: ["greet"],
    clientId: as.secretClient.id,
    clientSecret: as.secretClient.secret,
    dpop,
  });
  assert.equal(token.dpop, dpop, "the source says which key its tokens are bound to");
  const access = await token.getToken();
  assert.deepEqual(claims(access)["cnf"], { jkt: await dpop.jkt() });
  assert.equal(token.forAudience("urn:example:billing").dpop, dpop);
  const plain = createOAuth2TokenSource({
    issuer: as.issuer,
    clientId: as.secretClient.id,
    clientSecret: as.secretClient.secret,
  });
  assert.equal(plain.dpop, undefined);
  assert.equal(claims(await plain.getToken())["cnf"], undefined, "no dpop, no binding");
});

/** What the local token endpoint answers; it records each request's DPoP proof (checked with jose). */
interface Endpoint {
  readonly url: string;
  readonly proofs: (JWTPayload & { readonly jkt: string })[];
  close(): Promise<void>;
}

/**
 * A token endpoint that wants a nonce (RFC 9449 §8): a proof without its nonce gets 400 use_dpop_nonce
 * and a DPoP-Nonce header. A proof is checked as an authorization server does (§4.3): signature by the
 * embedded public jwk, typ, htm POST, htu the endpoint's URL, no ath.
 */
async function startTokenEndpoint(answer: { tokenType: string; neverAccept?: boolean }): Promise<Endpoint> {
  const proofs: Endpoint["proofs"] = [];
  let round = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
      res.end(JSON.stringify(body));
    };
    for await (const _ of req);
    const proof = req.headers["dpop"];
    if (typeof proof !== "string") return json(400, { error: "invalid_dpop_proof" });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: ["ES256"] });
    proofs.push({ ...payload, jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK) });
    assert.deepEqual([payload.htm, payload["htu"], "ath" in payload], ["POST", `${url}/token`, false]);
    const nonce = `as-nonce-${round}`;
    if (payload["nonce"] !== nonce || answer.neverAccept) {
      round++;
      return json(
        400,
        { error: "use_dpop_nonce", error_description: "a nonce is needed" },
        { "dpop-nonce": `as-nonce-${round}` },
      );
    }
    json(200, { access_token: `at-${proofs.length}`, token_type: answer.tokenType, expires_in: 300 });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  const listening = await listenOnLoopback(server);
  const url = `http://${listening.hostPort}`;
  return { url, proofs, close: () => listening.close() };
}

const source = (endpoint: Endpoint, dpop: DpopProver) =>
  createOAuth2TokenSource({
    issuer: endpoint.url,
    tokenEndpoint: `${endpoint.url}/token`,
    clientId: "worker",
    clientSecret: "worker-secret-for-tests",
    dpop,
  });

test("a token endpoint that wants a nonce: one more request with it, and the DPoP token goes out as DPoP", async () => {
  const endpoint = await startTokenEndpoint({ tokenType: "DPoP" });
  try {
    const dpop = createDpopProver({ keyPair: await keyPair() });
    const token = source(endpoint, dpop);
    assert.equal(await token.getToken(), "at-2");
    assert.deepEqual(
      endpoint.proofs.map((p) => [p["nonce"], p.jkt]),
      [
        [undefined, await dpop.jkt()],
        ["as-nonce-1", await dpop.jkt()],
      ],
    );
    assert.notEqual(endpoint.proofs[0]?.jti, endpoint.proofs[1]?.jti);

    // The interceptor takes the prover from the source: Authorization: DPoP, a proof by the same key.
    const seen: [string | null, string][] = [];
    const transport = createRouterTransport(
      (router) =>
        router.service(GreeterService, {
          greet: async (_req, ctx) => {
            const { protectedHeader } = await jwtVerify(ctx.requestHeader.get("dpop") ?? "", EmbeddedJWK, { typ: "dpop+jwt" });
            seen.push([ctx.requestHeader.get("authorization"), await calculateJwkThumbprint(protectedHeader.jwk as JWK)]);
            return {};
          },
        }),
      { transport: { baseUrl: "https://api.test", interceptors: [createAuthInterceptor({ token })] } },
    );
    await createClient(GreeterService, transport).greet({});
    assert.deepEqual(seen, [["DPoP at-2", await dpop.jkt()]]);
  } finally {
    await endpoint.close();
  }
});

test("a nonce refused twice is not asked a third time: the load fails with use_dpop_nonce", async () => {
  const endpoint = await startTokenEndpoint({ tokenType: "DPoP", neverAccept: true });
  try {
    const token = source(endpoint, createDpopProver({ keyPair: await keyPair() }));
    await assert.rejects(token.getToken(), (e: unknown) => (e as { error?: string }).error === "use_dpop_nonce");
    assert.equal(endpoint.proofs.length, 2);
  } finally {
    await endpoint.close();
  }
});

test("a Bearer token when DPoP was asked is refused (UNSUPPORTED_TOKEN_TYPE), never sent", async () => {
  const endpoint = await startTokenEndpoint({ tokenType: "Bearer" });
  try {
    const token = source(endpoint, createDpopProver({ keyPair: await keyPair() }));
    let calls = 0;
    const transport = createRouterTransport(
      (router) =>
        router.service(GreeterService, {
          greet: () => {
            calls++;
            return {};
          },
        }),
      { transport: { baseUrl: "https://api.test", interceptors: [createAuthInterceptor({ token })] } },
    );
    await assert.rejects(createClient(GreeterService, transport).greet({}), (e: unknown) => {
      const failure = readAuthFailure(e);
      assert.deepEqual([failure?.reason, failure?.metadata["cause"]], ["TOKEN_UNAVAILABLE", "UNSUPPORTED_TOKEN_TYPE"]);
      assert.ok(!JSON.stringify([failure, String((e as Error).message)]).includes("at-2"));
      return true;
    });
    assert.equal(calls, 0);
  } finally {
    await endpoint.close();
  }
});

test("a dpop that is not a prover: TypeError at creation", () => {
  for (const dpop of [{}, "key", { keyPair: {} }]) {
    assert.throws(
      () =>
        createOAuth2TokenSource({
          issuer: "http://127.0.0.1:1",
          clientId: "c",
          clientSecret: "s",
          dpop: dpop as unknown as DpopProver,
        }),
      TypeError,
    );
  }
});
