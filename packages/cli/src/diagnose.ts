import { Code } from "@connectrpc/connect";
import { type AuthFailure, isLoopbackUrl, readAuthFailure, wwwAuthenticateHeader } from "@connectauth/core";
import { type Protocol, rawUnaryCall } from "./raw-call.js";
import { type TokenFacts, tokenFacts } from "./token-facts.js";
import { humanDuration } from "./duration.js";
import { serverMaxLifetimeSeconds } from "./lifetime-cap.js";
import { type TransportFacts, probeTransport } from "./transport-probe.js";

/**
 * The verdicts of `connectauth doctor`, stable identifiers of `--json` output. Each names one cause.
 */
export const verdicts = [
  "ok",
  "server_unreachable",
  "tls_to_plaintext",
  "plaintext_to_tls",
  "certificate_error",
  "http_version_mismatch",
  "missing_credentials",
  "credentials_dropped",
  "malformed_credentials",
  "multiple_credentials",
  "token_expired",
  "token_not_yet_valid",
  "invalid_audience",
  "invalid_issuer",
  "unknown_key",
  "invalid_token",
  "insufficient_scope",
  "claims_rejected",
  "invalid_api_key",
  "invalid_client_certificate",
  "keys_unavailable",
  "method_not_found",
  "auth_failure_without_details",
  "call_failed",
] as const;
/** One of {@link verdicts}. */
export type VerdictId = (typeof verdicts)[number];

/** Options of {@link diagnose}. */
export interface DiagnoseOptions {
  /** The server's base URL, `http://` or `https://`. */
  readonly baseUrl: string;
  /** `package.Service/Method`. */
  readonly method: string;
  /** The token to send as `Bearer`; `undefined` sends no credential. */
  readonly token?: string;
  /** Default `"connect"`. */
  readonly protocol?: Protocol;
  /** Force an HTTP version; default: HTTP/2 when the server speaks it, else HTTP/1.1. */
  readonly httpVersion?: "1.1" | "2";
  /** Extra trusted CA certificates (PEM). */
  readonly ca?: string;
  /** Per-step timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** The local clock, in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** What the call answered. */
export interface CallOutcome {
  /** `0` for OK, else the Connect code. */
  readonly code: number;
  /** e.g. `"PermissionDenied"`, `"OK"`. */
  readonly codeName: string;
  /** The connectauth reason (`ErrorInfo.reason`), when the failure has one. */
  readonly reason: string | undefined;
  readonly message: string | undefined;
  /** The raw `WWW-Authenticate` value, when sent. */
  readonly challenge: string | undefined;
  /** `ErrorInfo.metadata` (e.g. `detail`, `authenticator`, `required_scopes`). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly requiredScopes: readonly string[];
  /** The scopes the token claims (decoded locally). */
  readonly grantedScopes: readonly string[];
  /** Required scopes the token does not claim. */
  readonly missingScopes: readonly string[];
}

/**
 * The whole result of `connectauth doctor`, which `--json` prints as is. `schema` changes only when a
 * field changes meaning or goes away; fields may be added.
 */
export interface Diagnosis {
  readonly schema: "connectauth.doctor/v1";
  readonly target: {
    readonly baseUrl: string;
    readonly method: string;
    readonly protocol: Protocol;
    /** The HTTP version of the call, `null` when no call was made. */
    readonly httpVersion: "1.1" | "2" | null;
  };
  /** The token decoded without verification; `null` when none was given. */
  readonly token: TokenFacts | null;
  readonly transport: TransportFacts;
  /** `null` when the transport checks stopped before the call. */
  readonly call: CallOutcome | null;
  /** Observations that are not the verdict (warnings, e.g. "expires in 20 s"). */
  readonly notes: readonly string[];
  readonly verdict: {
    readonly id: VerdictId;
    readonly ok: boolean;
    /** One sentence: what is wrong. */
    readonly summary: string;
    /** The concrete fix. Empty when ok. */
    readonly fix: string;
  };
}

/**
 * Diagnoses one call: probes the transport, decodes the token (untrusted) against the local clock,
 * makes the call with an empty request, and explains the answer. Never holds the token in its result
 * (only its short hash). Talks to `baseUrl` only.
 *
 * ```ts
 * const d = await diagnose({ baseUrl: "http://127.0.0.1:8080", method: "example.v1.GreeterService/Admin", token });
 * d.verdict; // { id: "insufficient_scope", ok: false, summary: "…", fix: "…" }
 * ```
 *
 * @throws TypeError on a URL that is not http(s) or a method that is not `package.Service/Method`.
 */
export async function diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
  const url = new URL(options.baseUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`the base URL must be http:// or https://, got ${url.protocol}`);
  }
  if (!/^\/?(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*\/[A-Za-z_]\w*$/.test(options.method)) {
    throw new TypeError(`"${options.method}" is not a method name of the form package.Service/Method`);
  }
  const method = options.method.replace(/^\//, "");
  const protocol = options.protocol ?? "connect";
  const now = options.now ?? Date.now;
  const token = options.token === undefined ? null : tokenFacts(options.token, now());
  const notes: string[] = [];
  const base = { schema: "connectauth.doctor/v1" as const, token, notes };
  const target = { baseUrl: options.baseUrl, method, protocol };
  const transport = await probeTransport(url, { ca: options.ca, timeoutMs: options.timeoutMs });
  const stop = (id: VerdictId, summary: string, fix: string): Diagnosis => ({
    ...base,
    target: { ...target, httpVersion: null },
    transport,
    call: null,
    verdict: { id, ok: false, summary, fix },
  });

  const hostPort = `${url.hostname}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
  if (!transport.reachable) {
    return stop(
      "server_unreachable",
      `nothing answers at ${hostPort} (${transport.connectError}).`,
      transport.connectError === "ENOTFOUND"
        ? `check the host name "${url.hostname}" (DNS does not resolve it).`
        : `start the server, or check the host and port (is it listening on ${hostPort}, and not only on another interface?).`,
    );
  }
  if (url.protocol === "https:" && !transport.speaksTls) {
    return stop(
      "tls_to_plaintext",
      `the URL says https but ${hostPort} speaks plaintext (no TLS handshake).`,
      `use http://${hostPort}, or serve TLS on the server (http2.createSecureServer with a certificate).`,
    );
  }
  if (url.protocol === "http:" && transport.speaksTls) {
    return stop(
      "plaintext_to_tls",
      `the URL says http but ${hostPort} expects TLS.`,
      `use https://${hostPort}${url.pathname === "/" ? "" : url.pathname}.`,
    );
  }
  if (transport.certificateError !== undefined) {
    return stop("certificate_error", `the server's certificate is not trusted: ${transport.certificateError}.`, certificateFix(transport.certificateError, url.hostname));
  }
  if (transport.http2 && !transport.http1) {
    notes.push("the server speaks HTTP/2 only: HTTP/1.1 clients (browsers on plain http, grpc-web and Connect over HTTP/1.1) cannot reach it.");
  }
  if (transport.http1 && !transport.http2) {
    notes.push("the server speaks HTTP/1.1 only: gRPC clients (which need HTTP/2) cannot reach it.");
  }
  const mismatch = httpVersionProblem(protocol, options.httpVersion, transport);
  if (mismatch !== undefined) {
    return stop("http_version_mismatch", mismatch.summary, mismatch.fix);
  }
  const httpVersion = options.httpVersion ?? (transport.http2 ? "2" : "1.1");
  if (url.protocol === "http:" && !isLoopbackUrl(url) && options.token !== undefined) {
    notes.push("the token was sent in plaintext to a host that is not loopback: anyone on the path can read it. Use https.");
  }
  if (token !== null) notes.push(...tokenNotes(token));

  const error = await rawUnaryCall({
    baseUrl: options.baseUrl,
    method,
    protocol,
    httpVersion,
    authorization: options.token === undefined ? undefined : `Bearer ${options.token}`,
    ca: options.ca,
    timeoutMs: options.timeoutMs,
  });
  const failure = error === undefined ? undefined : readAuthFailure(error);
  const granted = token?.scopes ?? [];
  const required = failure?.requiredScopes ?? [];
  const call: CallOutcome = {
    code: error?.code ?? 0,
    codeName: error === undefined ? "OK" : Code[error.code],
    reason: failure?.reason,
    message: error?.rawMessage,
    challenge: error?.metadata.get(wwwAuthenticateHeader) ?? undefined,
    metadata: failure?.metadata ?? {},
    requiredScopes: required,
    grantedScopes: granted,
    missingScopes: required.filter((s) => !granted.includes(s)),
  };
  const verdict =
    error === undefined
      ? { id: "ok" as const, summary: options.token === undefined ? `the call passed without a credential (${method} is public).` : "the call passed auth and the handler answered OK.", fix: "" }
      : failure !== undefined
        ? explainFailure(failure, call, token, method)
        : explainOther(error.code, error.rawMessage, call.challenge, method);
  return {
    ...base,
    target: { ...target, httpVersion },
    transport,
    call,
    verdict: { ...verdict, ok: verdict.id === "ok" },
  };
}

type Explained = { id: VerdictId; summary: string; fix: string };

function explainFailure(f: AuthFailure, call: CallOutcome, t: TokenFacts | null, method: string): Explained {
  const detail = f.metadata["detail"];
  switch (f.reason) {
    case "MISSING_CREDENTIALS":
      return t === null
        ? { id: "missing_credentials", summary: `no credential was sent, and ${method} needs one.`, fix: "send a token: --token/--token-file here; in code, createAuthInterceptor({ token }) on the client transport." }
        : {
            id: "credentials_dropped",
            summary: "a token was sent but the server received no Authorization header.",
            fix: "something between client and server drops the header: a proxy, a load balancer, or CORS (browsers: the server must answer Access-Control-Allow-Headers: authorization).",
          };
    case "MALFORMED_CREDENTIALS":
      return {
        id: "malformed_credentials",
        summary: "the Authorization header is malformed.",
        fix: t?.formatProblem ?? 'send exactly "Authorization: Bearer <token>", one space, one token of base64url characters, no quotes or line breaks.',
      };
    case "MULTIPLE_CREDENTIALS":
      return { id: "multiple_credentials", summary: "more than one credential reached the server.", fix: "send one Authorization header only (check interceptors and proxies that add one)." };
    case "TOKEN_EXPIRED": {
      if (detail === "max_age") {
        return {
          id: "token_expired",
          summary: `the token is older than the server accepts (issued ${t?.iat !== undefined ? `at ${iso(t.iat)}` : "too long ago, or without iat"}).`,
          fix: "get a new token; the server's createJwtAuthenticator({ maxTokenAgeSeconds }) sets the oldest it accepts, counted from iat.",
        };
      }
      const localAgo = t?.expiresInSeconds;
      const skew = localAgo !== undefined && localAgo > 0;
      return {
        id: "token_expired",
        summary: skew
          ? `the server says the token expired, but by this machine's clock it is valid for ${humanDuration(localAgo)} more: the clocks differ.`
          : `the token expired${t?.exp !== undefined ? ` ${humanDuration(-(localAgo ?? 0))} ago (exp ${iso(t.exp)})` : ""}.`,
        fix: skew
          ? "synchronize the server's clock (NTP)."
          : "get a new token. In code, use a token source that refreshes ahead of expiry (the client interceptor retries once after a refresh on TOKEN_EXPIRED).",
      };
    }
    case "TOKEN_NOT_YET_VALID": {
      const ahead = t?.notBeforeInSeconds;
      return {
        id: "token_not_yet_valid",
        summary:
          ahead !== undefined && ahead > 0
            ? `the token is not valid yet: nbf is ${humanDuration(ahead)} ahead of this machine's clock (nbf ${iso(t!.nbf!)}).`
            : "the token is not valid yet by the server's clock (nbf or iat in its future).",
        fix: "clock skew between the issuer and the server: synchronize their clocks (NTP); a server may tolerate a little more skew with createJwtAuthenticator({ clockToleranceSeconds }) (default 30).",
      };
    }
    case "INVALID_AUDIENCE":
      return {
        id: "invalid_audience",
        summary: `the token was issued for another audience (aud: ${list(t?.aud)}).`,
        fix: "request a token for this server's audience (the audience/resource parameter of the token request), or add that audience to the server's createJwtAuthenticator({ audience }).",
      };
    case "INVALID_ISSUER":
      return {
        id: "invalid_issuer",
        summary: `the server does not trust the token's issuer (iss: ${t?.iss ?? "none"}).`,
        fix: "get a token from the issuer the server trusts (same environment), or add this issuer to the server's createJwtAuthenticator({ issuer }). Issuers must match exactly, trailing slash included.",
      };
    case "INVALID_TOKEN":
      if (detail === "unknown_key") {
        return {
          id: "unknown_key",
          summary: `the token is signed with a key the server does not know (kid: ${t?.kid ?? "none"}).`,
          fix: "the token comes from another issuer or environment, or the issuer rotated its keys: check that the server's JWKS URL is this issuer's, and get a new token.",
        };
      }
      return invalidToken(detail, t);
    case "INSUFFICIENT_SCOPE":
      return {
        id: "insufficient_scope",
        summary: `the token lacks ${plural(call.missingScopes.length > 0 ? call.missingScopes : f.requiredScopes, "scope")} that ${method} needs (required: ${list(f.requiredScopes)}; granted: ${list(call.grantedScopes)}).`,
        fix: `request a token with scope "${f.requiredScopes.join(" ")}" (the scope parameter of the token request), and make sure the issuer lets this client have it.`,
      };
    case "CLAIMS_REJECTED":
      return detail === "no_rule"
        ? {
            id: "claims_rejected",
            summary: `${method} has no auth rule, and the server denies such methods by default.`,
            fix: "declare a rule for it in the proto ((connectauth.v1.method_rule) or service_rule), or in code (authorization.rules); connectauth audit lists methods without one.",
          }
        : { id: "claims_rejected", summary: `the caller's claims do not satisfy the rule of ${method}.`, fix: "check the method's rule (connectauth audit) against the token's claims." };
    case "INVALID_API_KEY":
      return { id: "invalid_api_key", summary: "the API key is not known to the server.", fix: "use a current API key for this environment." };
    case "INVALID_CLIENT_CERTIFICATE":
      return {
        id: "invalid_client_certificate",
        summary: "the server did not accept the TLS client certificate (not verified by its CA, or not mapped to a caller).",
        fix: "present a certificate issued by the CA the server trusts, whose subject or SPIFFE ID the server maps to a caller.",
      };
    case "KEYS_UNAVAILABLE":
      return {
        id: "keys_unavailable",
        summary: "the server cannot reach its signing keys (JWKS) to verify tokens: a server-side outage, not your token.",
        fix: "on the server, check that it can reach its JWKS URL (DNS, egress, proxy, TLS). Clients should retry later, not refresh their token.",
      };
  }
}

/** INVALID_TOKEN but for an unknown key: the cause and fix for each `detail` the server sends. */
function invalidToken(detail: string | undefined, t: TokenFacts | null): Explained {
  const rejected = (because: string, fix: string): Explained => ({ id: "invalid_token", summary: `the server rejected the token: ${because}.`, fix });
  switch (detail) {
    case "lifetime": {
      const start = t?.iat ?? t?.nbf;
      const lifetime = t?.exp !== undefined && start !== undefined ? t.exp - start : undefined;
      return rejected(
        `it is valid for longer than the server accepts${lifetime === undefined ? "" : ` (${humanDuration(lifetime)} from ${t?.iat !== undefined ? "iat" : "nbf"} to exp)`}`,
        `have the issuer mint shorter-lived tokens (at most the server's cap, by default ${serverMaxLifetimeSeconds} s: one day), or raise the cap on the server: createJwtAuthenticator({ maxLifetimeSeconds${lifetime === undefined ? "" : `: ${lifetime}`} }).`,
      );
    }
    case "algorithm":
      return rejected(
        `its algorithm (${t?.alg ?? "?"}) is not allowed`,
        `align the server's createJwtAuthenticator({ algorithms }) with the issuer's signing algorithm (${t?.alg ?? "?"}).`,
      );
    case "key_type":
      return rejected(
        `its algorithm (${t?.alg ?? "?"}) does not fit the server's key`,
        "give the server the issuer's key for that algorithm (createJwtAuthenticator({ keys })), and list only algorithms that fit it in algorithms.",
      );
    case "signature":
      return rejected("its signature does not verify", "the signature does not verify with the key of that kid: the token was altered, or two issuers share a kid.");
    case "too_large":
      return rejected(
        "it is longer than the server accepts",
        "ask the issuer for a token with fewer claims, or raise the server's createJwtAuthenticator({ maxTokenLength }) (default 8192 characters).",
      );
    case "typ":
      return rejected(
        `its type (typ: ${t?.typ ?? "none"}) is not the one the server requires`,
        'send an access token, not an ID token; the server\'s createJwtAuthenticator({ typ }) (or profile: "rfc9068", which requires "at+jwt") sets the type it accepts.',
      );
    case "encrypted":
      return rejected("it is encrypted (JWE)", "send a signed JWT (JWS): encrypted tokens are never accepted.");
    case "nested":
    case "crit":
    case "embedded_key":
      return rejected(
        detail === "nested" ? "it is a nested token" : detail === "crit" ? "it has critical header extensions (crit)" : "its header names its own key (jwk, jku, x5u or x5c)",
        "send a plain signed JWT: this is refused whatever the server's options.",
      );
    case "claim_exp":
      return rejected("its exp is not a number of seconds", "fix the issuer: exp must be a finite NumericDate.");
    default:
      return rejected(
        `${detail ?? "invalid"}${t?.formatProblem ? `: ${t.formatProblem}` : ""}`,
        "send a complete, unaltered JWT from the trusted issuer.",
      );
  }
}

function explainOther(code: Code, message: string, challenge: string | undefined, method: string): Explained {
  if (code === Code.Unimplemented) {
    return { id: "method_not_found", summary: `the server does not serve ${method}.`, fix: "check the package, service and method names (case matters) and the base URL's path prefix." };
  }
  if (code === Code.Unauthenticated || code === Code.PermissionDenied) {
    return {
      id: "auth_failure_without_details",
      summary: `${Code[code]} without a connectauth reason${challenge ? ` (challenge: ${challenge})` : ""}: "${message}".`,
      fix: "the answer does not come from connectauth (a gateway or another interceptor?): check what runs in front of the service.",
    };
  }
  return {
    id: "call_failed",
    summary: `the call failed with ${Code[code]} (${code}), not an auth failure: "${message}".`,
    fix: code === Code.Unavailable || code === Code.Unknown ? "check the server's logs; the transport and auth checks above passed." : "auth passed or was not involved: look at the handler.",
  };
}

function httpVersionProblem(protocol: Protocol, forced: "1.1" | "2" | undefined, t: TransportFacts): { summary: string; fix: string } | undefined {
  if (protocol === "grpc" && (forced === "1.1" || !t.http2)) {
    return { summary: "gRPC needs HTTP/2, and the server answers HTTP/1.1 only.", fix: "use --protocol connect or grpc-web, or serve HTTP/2 (http2.createServer, or h2 via ALPN over TLS)." };
  }
  if (forced === "1.1" && !t.http1) {
    return {
      summary: "HTTP/1.1 was asked for, and the server speaks HTTP/2 only.",
      fix: "serve HTTP/1.1 too (http2.createSecureServer({ allowHTTP1: true }), or an HTTP/1.1 listener), or use an HTTP/2 client (--http-version 2).",
    };
  }
  if (forced === "2" && !t.http2) {
    return { summary: "HTTP/2 was asked for, and the server speaks HTTP/1.1 only.", fix: "use --http-version 1.1, or serve HTTP/2." };
  }
  if (!t.http1 && !t.http2) {
    return { summary: "the server answers neither HTTP/1.1 nor HTTP/2 on this port.", fix: "check the port: is it an HTTP server?" };
  }
  return undefined;
}

function tokenNotes(t: TokenFacts): string[] {
  const notes: string[] = [];
  if (t.formatProblem !== undefined) notes.push(`token: ${t.formatProblem}.`);
  if (!t.isJwt) return notes;
  if (t.exp === undefined) notes.push("token: no exp claim (connectauth servers require one).");
  else if (t.expiresInSeconds! <= 0) notes.push(`token: expired ${humanDuration(-t.expiresInSeconds!)} ago by this machine's clock.`);
  else if (t.expiresInSeconds! < 60) notes.push(`token: expires in ${humanDuration(t.expiresInSeconds!)}.`);
  if (t.notBeforeInSeconds !== undefined && t.notBeforeInSeconds > 0) notes.push(`token: not valid for ${humanDuration(t.notBeforeInSeconds)} more by this machine's clock (nbf).`);
  if (t.alg === "none") notes.push('token: alg "none" (unsigned); no server should accept it.');
  return notes;
}

function certificateFix(code: string, host: string): string {
  switch (code) {
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return "the certificate is signed by a CA this machine does not trust: pass the CA with --ca <file.pem> (clients: NODE_EXTRA_CA_CERTS or the transport's ca option), or use a certificate from a public CA.";
    case "CERT_HAS_EXPIRED":
      return "the server's certificate has expired: renew it.";
    case "CERT_NOT_YET_VALID":
      return "the server's certificate is not valid yet: check the server's and this machine's clocks.";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `the certificate is not issued for "${host}": call the server by a name its certificate lists, or reissue the certificate with this name.`;
    default:
      return "fix the server's certificate chain (serve the intermediate certificates too).";
  }
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function list(values: readonly string[] | undefined): string {
  return values === undefined || values.length === 0 ? "none" : values.join(" ");
}

function plural(values: readonly string[], word: string): string {
  return `${values.length === 1 ? `the ${word}` : `the ${word}s`} "${values.join(" ")}"`;
}
