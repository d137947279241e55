import { isLoopbackUrl } from "@connectauth/core";
import { humanDuration } from "./duration.js";
import type { DpopFacts } from "./dpop-key.js";
import type { HealthFacts } from "./health-probe.js";
import type { TokenFacts } from "./token-facts.js";
import type { TransportFacts } from "./transport-probe.js";

/**
 * The observations of `connectauth doctor` on the transport that are not a verdict: a server that
 * speaks one HTTP version only. Said only once the probes got that far (reached, TLS as the URL says,
 * certificate trusted); before that the HTTP facts mean nothing.
 *
 * ```ts
 * transportNotes(url, await probeTransport(url)); // ["the server speaks HTTP/2 only: …"]
 * ```
 *
 * Not checked: which clients will actually call the server.
 */
export function transportNotes(url: URL, t: TransportFacts): string[] {
  const probed = t.reachable && t.speaksTls === (url.protocol === "https:") && t.certificateError === undefined;
  if (!probed) return [];
  if (t.http2 && !t.http1) {
    return [
      "the server speaks HTTP/2 only: HTTP/1.1 clients (browsers on plain http, grpc-web and Connect over HTTP/1.1) cannot reach it.",
    ];
  }
  if (t.http1 && !t.http2) return ["the server speaks HTTP/1.1 only: gRPC clients (which need HTTP/2) cannot reach it."];
  return [];
}

/**
 * The observations of `connectauth doctor` on what the call sends: a token in plaintext to a host that
 * is not loopback, what the token says of itself by this machine's clock (no `exp`, expired or about
 * to, not valid yet, `alg: "none"`, not a JWT), and a DPoP binding that does not fit the call (a bound
 * token sent as Bearer, a `--dpop-key` that is not the token's, or a token bound to no key).
 *
 * ```ts
 * callNotes(new URL("http://api.example.test"), tokenFacts(token, Date.now()));
 * // ["the token was sent in plaintext to a host that is not loopback: …", "token: expires in 20 s."]
 * ```
 *
 * Not checked: the token's signature (its facts are decoded without verification).
 */
export function callNotes(url: URL, token: TokenFacts | null, dpop?: DpopFacts): string[] {
  if (token === null) return [];
  const notes: string[] = [];
  if (url.protocol === "http:" && !isLoopbackUrl(url)) {
    notes.push("the token was sent in plaintext to a host that is not loopback: anyone on the path can read it. Use https.");
  }
  if (token.formatProblem !== undefined) notes.push(`token: ${token.formatProblem}.`);
  if (!token.isJwt) return notes;
  const left = token.expiresInSeconds;
  if (token.exp === undefined || left === undefined) notes.push("token: no exp claim (connectauth servers require one).");
  else if (left <= 0) notes.push(`token: expired ${humanDuration(-left)} ago by this machine's clock.`);
  else if (left < 60) notes.push(`token: expires in ${humanDuration(left)}.`);
  const ahead = token.notBeforeInSeconds;
  if (ahead !== undefined && ahead > 0)
    notes.push(`token: not valid for ${humanDuration(ahead)} more by this machine's clock (nbf).`);
  if (token.alg === "none") notes.push('token: alg "none" (unsigned); no server should accept it.');
  if (dpop !== undefined) notes.push(...dpopNotes(dpop));
  return notes;
}

/** The DPoP notes of {@link callNotes}: thumbprints only. */
function dpopNotes({ keyJkt, tokenJkt }: DpopFacts): string[] {
  if (keyJkt === null && tokenJkt !== null) {
    return [`token: bound to a DPoP key (cnf.jkt ${tokenJkt}) but sent as Bearer: give that key with --dpop-key FILE.`];
  }
  if (keyJkt !== null && tokenJkt === null) {
    return ["token: bound to no key (no cnf.jkt): a DPoP server refuses it with any proof; get a token bound to the --dpop-key."];
  }
  if (keyJkt !== null && tokenJkt !== null && keyJkt !== tokenJkt) {
    return [`token: bound to the key ${tokenJkt} (cnf.jkt), not to the --dpop-key (${keyJkt}).`];
  }
  return [];
}

/**
 * The observations of `connectauth doctor` on the health Check that are not a verdict: no health
 * service (a quiet skip), one that refuses a Check without a credential (not public), a Check that
 * failed otherwise, or a status that is neither SERVING nor NOT_SERVING. Never a failure of the call.
 *
 * ```ts
 * healthNotes({ ...health, status: null, error: "Unimplemented" }); // ["no health service (grpc.health.v1); skipped."]
 * ```
 *
 * Not checked: whether the server should have a health service.
 */
export function healthNotes(h: HealthFacts): string[] {
  switch (h.error) {
    case null:
      return h.status === "SERVING" || h.status === "NOT_SERVING" ? [] : [`grpc.health.v1 says ${h.status}; skipped.`];
    case "Unimplemented":
    case "NotFound":
      return ["no health service (grpc.health.v1); skipped."];
    case "Unauthenticated":
    case "PermissionDenied":
      return [
        `the health service is not public: a Check without a credential was refused (${h.error}), so load balancers cannot ask it. Make it public: rules: { "grpc.health.v1.Health": { public: true } }.`,
      ];
    default:
      return [`the health check failed (${h.error}); skipped.`];
  }
}
