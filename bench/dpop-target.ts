// The servers of dpop.bench.ts, in a child process so that their CPU time is measured apart from the
// client's (which signs a proof per call): the same Greeter over HTTP/2 cleartext behind connectauth with
// bearer tokens (warm cache), behind connectauth with DPoP required (RFC 9449: the token cached, the proof
// checked per call), and behind a hand-written jose DPoP check, what a careful user would otherwise write
// (jwtVerify of the token and of the proof with EmbeddedJWK, the claims, calculateJwkThumbprint against
// cnf.jkt, a Set of the jtis seen).
// Started with the client key's thumbprint as its argument (the bound token's cnf.jkt). Speaks over IPC
// as server-call-target.ts does: sends a DpopTargets message once listening; answers "cpu" with
// process.cpuUsage(), and "profile-start" / "profile-stop" with the CPU share of the auth layer between.
import { createHash } from "node:crypto";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createJwtAuthenticator, createServerAuth } from "@connectauth/server";
import { createDevIssuer } from "@connectauth/node/dev";
import { EmbeddedJWK, type JWK, calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from "jose";
import { greeterRoutes } from "../packages/example/src/greeter-service.js";
import { answerParent } from "./server-measure.js";
import { type DpopTargets, type DpopVariant, dpopVariants } from "./dpop-measure.js";

const jkt = process.argv[2];
const issuer = await createDevIssuer({ issuer: "https://issuer.bench", audience: "greeter" });
const verifyOptions = { issuer: issuer.issuer, audience: issuer.audience, algorithms: ["ES256"] };
const jwt = (dpop?: "required") => createJwtAuthenticator({ ...verifyOptions, keys: issuer.jwks, dpop });

const unauthenticated = () => new ConnectError("unauthenticated", Code.Unauthenticated);
const localKeys = createLocalJWKSet(issuer.jwks);
// connectauth's defaults: the same algorithms, the same 60 s iat window.
const proofOptions = {
  typ: "dpop+jwt",
  algorithms: ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"],
  requiredClaims: ["jti", "htm", "htu", "iat"],
  maxTokenAge: 60,
};
const seen = new Set<string>();
const pathOf = (url: string) => {
  const u = new URL(url);
  return u.origin + u.pathname;
};

/**
 * A hand-written DPoP check with jose, as RFC 9449 §4.3 and §7.1 read: `Authorization: DPoP`, exactly
 * one proof, the token verified, the proof verified with its embedded public jwk (typ, alg, iat within
 * 60 s), htm, htu, ath, the token's cnf.jkt against the jwk's thumbprint, and a jti not seen before.
 * Not checked: nonces (the connectauth server here uses none either).
 */
const joseDpop: Interceptor = (next) => async (req) => {
  const authorization = req.header.get("authorization");
  const proof = req.header.get("dpop");
  if (authorization === null || !authorization.startsWith("DPoP ") || proof === null || proof.includes(",")) {
    throw unauthenticated();
  }
  const token = authorization.slice(5);
  try {
    const { payload: claims } = await jwtVerify(token, localKeys, verifyOptions);
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, proofOptions);
    const { jti } = payload;
    if (typeof jti !== "string" || seen.has(jti)) throw unauthenticated();
    if (payload["htm"] !== req.requestMethod) throw unauthenticated();
    const htu = payload["htu"];
    if (typeof htu !== "string" || pathOf(htu) !== pathOf(req.url)) throw unauthenticated();
    if (payload["ath"] !== createHash("sha256").update(token).digest("base64url")) throw unauthenticated();
    const cnf = claims["cnf"] as { jkt?: unknown } | undefined;
    if (cnf?.jkt !== (await calculateJwkThumbprint(protectedHeader.jwk as JWK))) throw unauthenticated();
    seen.add(jti);
  } catch {
    throw unauthenticated();
  }
  return next(req);
};

type AdapterOptions = Parameters<typeof connectNodeAdapter>[0];
const options: Record<DpopVariant, Omit<AdapterOptions, "routes">> = {
  bearer: createServerAuth({ authenticators: [jwt()] }).install({}),
  dpop: createServerAuth({ authenticators: [jwt("required")] }).install({}),
  "jose-dpop": { interceptors: [joseDpop] },
};

const url = {} as Record<DpopVariant, string>;
for (const v of dpopVariants) {
  const server = http2.createServer(connectNodeAdapter({ routes: greeterRoutes, ...options[v] }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url[v] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const mint = { subject: "alice", scopes: ["greet"], ttlSeconds: 3600 };
const targets: DpopTargets = {
  url,
  bearerToken: await issuer.mint(mint),
  boundToken: await issuer.mint({ ...mint, jkt }),
};
answerParent(targets);
