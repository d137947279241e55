// The verdicts of a call's answer in `connectauth doctor`, as a table: by reason (every reason of
// core has its rows), then by `detail` and the token's facts; a condition and what it says for each.
// Pure: the call is raw-call.ts, the walk diagnose.ts. Longer than most files because each row is one
// answer people read, and they read best side by side.
import { Code } from "@connectrpc/connect";
import { type Reason, parseChallenges } from "@connectauth/core";
import type { CallOutcome } from "./call-outcome.js";
import type { DpopFacts } from "./dpop-key.js";
import { humanDuration } from "./duration.js";
import { serverMaxLifetimeSeconds } from "./lifetime-cap.js";
import type { TokenFacts } from "./token-facts.js";
import { type Case, type Choice, type Row, type Verdict, choose } from "./verdicts.js";

/** What the call answered, and with what token: the facts {@link callVerdict} judges. */
export interface CallSituation {
  /** `package.Service/Method`. */
  readonly method: string;
  /** The token sent, decoded without verification; `null` when none was sent. */
  readonly token: TokenFacts | null;
  readonly call: CallOutcome;
  /** The DPoP of the call (thumbprints only); absent: sent as Bearer, nothing known of a binding. */
  readonly dpop?: DpopFacts;
}

/** The call passed. */
const passed: Choice<CallSituation> = {
  cases: [
    {
      id: "ok",
      when: (s) => s.token === null,
      says: (s) => ({ summary: `the call passed without a credential (${s.method} is public).`, fix: "" }),
    },
    {
      id: "ok",
      when: (s) => keyOf(s) !== undefined,
      says: (s) => ({
        summary: `the call passed auth with DPoP (a proof signed by the key ${keyOf(s)}${s.dpop?.nonceRetried ? ", with the server's nonce" : ""}) and the handler answered OK.`,
        fix: "",
      }),
    },
  ],
  otherwise: { id: "ok", says: () => ({ summary: "the call passed auth and the handler answered OK.", fix: "" }) },
};

const detail = (s: CallSituation) => s.call.metadata["detail"];
/** An `invalid_token` row: the server rejected the token `because`. */
const rejected = (because: (s: CallSituation) => string, fix: (s: CallSituation) => string): Row<CallSituation> => ({
  id: "invalid_token",
  says: (s) => ({ summary: `the server rejected the token: ${because(s)}.`, fix: fix(s) }),
});
/** The `invalid_token` row of one `detail` word of the server. */
const rejectedOn = (
  word: string,
  because: (s: CallSituation) => string,
  fix: (s: CallSituation) => string,
): Case<CallSituation> => ({
  ...rejected(because, fix),
  when: (s) => detail(s) === word,
});
const alg = (s: CallSituation) => s.token?.alg ?? "?";
/** The thumbprint of the `--dpop-key`, when the call went with DPoP. */
const keyOf = (s: CallSituation) => s.dpop?.keyJkt ?? undefined;
/** The token's `cnf.jkt`, when it says one. */
const boundTo = (s: CallSituation) => s.dpop?.tokenJkt ?? undefined;
/** The `algs` of the server's `DPoP` challenge, when it sent one. */
const dpopAlgs = (s: CallSituation) =>
  parseChallenges(s.call.challenge).find((c) => c.scheme.toLowerCase() === "dpop")?.params["algs"];
/** How to send DPoP here and in code. */
const sendDpop =
  "send it with DPoP and a proof per call signed by its key: --dpop-key <private JWK file> here; in code, createAuthInterceptor({ token, dpop: createDpopProver({ keyPair }) }) (@connectauth/client/dpop).";
/** How to get a token bound to a key. */
const boundToken = (jkt: string | undefined) =>
  `get a token bound to the key: a token request with a DPoP proof (createOAuth2TokenSource({ dpop })), or connectauth token mint --jkt ${jkt ?? "<its thumbprint>"}`;
/** An `invalid_dpop_proof` row of one `detail` word of the server. */
const proofRefusedOn = (
  word: string,
  because: (s: CallSituation) => string,
  fix: (s: CallSituation) => string,
): Case<CallSituation> => ({
  id: "invalid_dpop_proof",
  when: (s) => detail(s) === word,
  says: (s) => ({ summary: `the server refused the DPoP proof: ${because(s)}.`, fix: fix(s) }),
});
/** The token's lifetime in seconds, from `iat` (else `nbf`) to `exp`, when it says both. */
const lifetime = ({ token: t }: CallSituation) => {
  const start = t?.iat ?? t?.nbf;
  return t?.exp !== undefined && start !== undefined ? t.exp - start : undefined;
};
/** Seconds until `exp` by the local clock when the token is still valid by it (the clocks differ). */
const validHere = (s: CallSituation) => {
  const left = s.token?.expiresInSeconds;
  return left !== undefined && left > 0 ? left : undefined;
};
/** The token's `nbf` when it lies ahead of the local clock, with how far ahead. */
const aheadHere = (s: CallSituation) => {
  const t = s.token;
  return t?.nbf !== undefined && t.notBeforeInSeconds !== undefined && t.notBeforeInSeconds > 0
    ? { nbf: t.nbf, seconds: t.notBeforeInSeconds }
    : undefined;
};

/** The fix of every `token_not_yet_valid`. */
const notYetValidFix =
  "clock skew between the issuer and the server: synchronize their clocks (NTP); a server may tolerate a little more skew with createJwtAuthenticator({ clockToleranceSeconds }) (default 30).";

/** The fix of a token whose form no option of the server admits. */
const plainJws = "send a plain signed JWT: this is refused whatever the server's options.";

/** The summary of every `call_failed`. */
const callFailed = (call: CallOutcome) =>
  `the call failed with ${call.codeName} (${call.code}), not an auth failure: "${call.message}".`;

/**
 * The failures connectauth names, by reason. Keyed by every {@link Reason}, so that a reason added to
 * core does not compile until it has its verdict here.
 */
const failures: Readonly<Record<Reason, Choice<CallSituation>>> = {
  MISSING_CREDENTIALS: {
    cases: [
      {
        id: "missing_credentials",
        when: (s) => s.token === null,
        says: (s) => ({
          summary: `no credential was sent, and ${s.method} needs one.`,
          fix: "send a token: --token/--token-file here; in code, createAuthInterceptor({ token }) on the client transport.",
        }),
      },
    ],
    otherwise: {
      id: "credentials_dropped",
      says: () => ({
        summary: "a token was sent but the server received no Authorization header.",
        fix: "something between client and server drops the header: a proxy, a load balancer, or CORS (browsers: the server must answer Access-Control-Allow-Headers: authorization).",
      }),
    },
  },
  MALFORMED_CREDENTIALS: {
    cases: [],
    otherwise: {
      id: "malformed_credentials",
      says: (s) => ({
        summary: "the Authorization header is malformed.",
        fix:
          s.token?.formatProblem ??
          'send exactly "Authorization: Bearer <token>", one space, one token of base64url characters, no quotes or line breaks.',
      }),
    },
  },
  MULTIPLE_CREDENTIALS: {
    cases: [],
    otherwise: {
      id: "multiple_credentials",
      says: () => ({
        summary: "more than one credential reached the server.",
        fix: "send one Authorization header only (check interceptors and proxies that add one).",
      }),
    },
  },
  TOKEN_EXPIRED: {
    cases: [
      {
        id: "token_expired",
        when: (s) => detail(s) === "max_age",
        says: ({ token: t }) => ({
          summary: `the token is older than the server accepts (issued ${t?.iat !== undefined ? `at ${iso(t.iat)}` : "too long ago, or without iat"}).`,
          fix: "get a new token; the server's createJwtAuthenticator({ maxTokenAgeSeconds }) sets the oldest it accepts, counted from iat.",
        }),
      },
      {
        id: "token_expired",
        when: (s) => validHere(s) !== undefined,
        says: (s) => ({
          summary: `the server says the token expired, but by this machine's clock it is valid for ${humanDuration(validHere(s) ?? 0)} more: the clocks differ.`,
          fix: "synchronize the server's clock (NTP).",
        }),
      },
    ],
    otherwise: {
      id: "token_expired",
      says: ({ token: t }) => ({
        summary: `the token expired${t?.exp !== undefined ? ` ${humanDuration(-(t.expiresInSeconds ?? 0))} ago (exp ${iso(t.exp)})` : ""}.`,
        fix: "get a new token. In code, use a token source that refreshes ahead of expiry (the client interceptor retries once after a refresh on TOKEN_EXPIRED).",
      }),
    },
  },
  TOKEN_NOT_YET_VALID: {
    cases: [
      {
        id: "token_not_yet_valid",
        when: (s) => aheadHere(s) !== undefined,
        says: (s) => {
          const ahead = aheadHere(s);
          return {
            summary: `the token is not valid yet: nbf is ${humanDuration(ahead?.seconds ?? 0)} ahead of this machine's clock (nbf ${iso(ahead?.nbf ?? 0)}).`,
            fix: notYetValidFix,
          };
        },
      },
    ],
    otherwise: {
      id: "token_not_yet_valid",
      says: () => ({
        summary: "the token is not valid yet by the server's clock (nbf or iat in its future).",
        fix: notYetValidFix,
      }),
    },
  },
  INVALID_AUDIENCE: {
    cases: [],
    otherwise: {
      id: "invalid_audience",
      says: (s) => ({
        summary: `the token was issued for another audience (aud: ${list(s.token?.aud)}).`,
        fix: "request a token for this server's audience (the audience/resource parameter of the token request), or add that audience to the server's createJwtAuthenticator({ audience }).",
      }),
    },
  },
  INVALID_ISSUER: {
    cases: [],
    otherwise: {
      id: "invalid_issuer",
      says: (s) => ({
        summary: `the server does not trust the token's issuer (iss: ${s.token?.iss ?? "none"}).`,
        fix: "get a token from the issuer the server trusts (same environment), or add this issuer to the server's createJwtAuthenticator({ issuer }). Issuers must match exactly, trailing slash included.",
      }),
    },
  },
  INVALID_TOKEN: {
    // One row per `detail` the server sends.
    cases: [
      {
        id: "unknown_key",
        when: (s) => detail(s) === "unknown_key",
        says: (s) => ({
          summary: `the token is signed with a key the server does not know (kid: ${s.token?.kid ?? "none"}).`,
          fix: "the token comes from another issuer or environment, or the issuer rotated its keys: check that the server's JWKS URL is this issuer's, and get a new token.",
        }),
      },
      rejectedOn(
        "lifetime",
        (s) => {
          const seconds = lifetime(s);
          return `it is valid for longer than the server accepts${seconds === undefined ? "" : ` (${humanDuration(seconds)} from ${s.token?.iat !== undefined ? "iat" : "nbf"} to exp)`}`;
        },
        (s) => {
          const seconds = lifetime(s);
          return `have the issuer mint shorter-lived tokens (at most the server's cap, by default ${serverMaxLifetimeSeconds} s: one day), or raise the cap on the server: createJwtAuthenticator({ maxLifetimeSeconds${seconds === undefined ? "" : `: ${seconds}`} }).`;
        },
      ),
      rejectedOn(
        "algorithm",
        (s) => `its algorithm (${alg(s)}) is not allowed`,
        (s) => `align the server's createJwtAuthenticator({ algorithms }) with the issuer's signing algorithm (${alg(s)}).`,
      ),
      rejectedOn(
        "key_type",
        (s) => `its algorithm (${alg(s)}) does not fit the server's key`,
        () =>
          "give the server the issuer's key for that algorithm (createJwtAuthenticator({ keys })), and list only algorithms that fit it in algorithms.",
      ),
      rejectedOn(
        "signature",
        () => "its signature does not verify",
        () => "the signature does not verify with the key of that kid: the token was altered, or two issuers share a kid.",
      ),
      rejectedOn(
        "too_large",
        () => "it is longer than the server accepts",
        () =>
          "ask the issuer for a token with fewer claims, or raise the server's createJwtAuthenticator({ maxTokenLength }) (default 8192 characters).",
      ),
      rejectedOn(
        "typ",
        (s) => `its type (typ: ${s.token?.typ ?? "none"}) is not the one the server requires`,
        () =>
          'send an access token, not an ID token; the server\'s createJwtAuthenticator({ typ }) (or profile: "rfc9068", which requires "at+jwt") sets the type it accepts.',
      ),
      rejectedOn(
        "encrypted",
        () => "it is encrypted (JWE)",
        () => "send a signed JWT (JWS): encrypted tokens are never accepted.",
      ),
      rejectedOn(
        "nested",
        () => "it is a nested token",
        () => plainJws,
      ),
      rejectedOn(
        "crit",
        () => "it has critical header extensions (crit)",
        () => plainJws,
      ),
      rejectedOn(
        "embedded_key",
        () => "its header names its own key (jwk, jku, x5u or x5c)",
        () => plainJws,
      ),
      rejectedOn(
        "claim_exp",
        () => "its exp is not a number of seconds",
        () => "fix the issuer: exp must be a finite NumericDate.",
      ),
      rejectedOn(
        "dpop_required",
        () => 'this server takes tokens only with DPoP, and it came as "Authorization: Bearer"',
        (s) => (boundTo(s) === undefined ? `${boundToken(undefined)}; then ${sendDpop}` : sendDpop),
      ),
      rejectedOn(
        "dpop_bound",
        (s) =>
          `it is bound to a DPoP key (cnf.jkt ${boundTo(s) ?? "in the token"}) and came as Bearer: a bound token is refused without a proof of its key, so a stolen one is useless`,
        () => sendDpop,
      ),
    ],
    otherwise: rejected(
      (s) => `${detail(s) ?? "invalid"}${s.token?.formatProblem ? `: ${s.token.formatProblem}` : ""}`,
      () => "send a complete, unaltered JWT from the trusted issuer.",
    ),
  },
  INSUFFICIENT_SCOPE: {
    cases: [],
    otherwise: {
      id: "insufficient_scope",
      says: ({ method, call }) => ({
        summary: `the token lacks ${plural(call.missingScopes.length > 0 ? call.missingScopes : call.requiredScopes, "scope")} that ${method} needs (required: ${list(call.requiredScopes)}; granted: ${list(call.grantedScopes)}).`,
        fix: `request a token with scope "${call.requiredScopes.join(" ")}" (the scope parameter of the token request), and make sure the issuer lets this client have it.`,
      }),
    },
  },
  CLAIMS_REJECTED: {
    cases: [
      {
        id: "claims_rejected",
        when: (s) => detail(s) === "no_rule",
        says: (s) => ({
          summary: `${s.method} has no auth rule, and the server denies such methods by default.`,
          fix: "declare a rule for it in the proto ((connectauth.v1.method_rule) or service_rule), or in code (authorization.rules); connectauth audit lists methods without one.",
        }),
      },
    ],
    otherwise: {
      id: "claims_rejected",
      says: (s) => ({
        summary: `the caller's claims do not satisfy the rule of ${s.method}.`,
        fix: "check the method's rule (connectauth audit) against the token's claims.",
      }),
    },
  },
  INVALID_API_KEY: {
    cases: [],
    otherwise: {
      id: "invalid_api_key",
      says: () => ({ summary: "the API key is not known to the server.", fix: "use a current API key for this environment." }),
    },
  },
  INVALID_CLIENT_CERTIFICATE: {
    cases: [],
    otherwise: {
      id: "invalid_client_certificate",
      says: () => ({
        summary: "the server did not accept the TLS client certificate (not verified by its CA, or not mapped to a caller).",
        fix: "present a certificate issued by the CA the server trusts, whose subject or SPIFFE ID the server maps to a caller.",
      }),
    },
  },
  KEYS_UNAVAILABLE: {
    cases: [],
    otherwise: {
      id: "keys_unavailable",
      says: () => ({
        summary: "the server cannot reach its signing keys (JWKS) to verify tokens: a server-side outage, not your token.",
        fix: "on the server, check that it can reach its JWKS URL (DNS, egress, proxy, TLS). Clients should retry later, not refresh their token.",
      }),
    },
  },
  INVALID_DPOP_PROOF: {
    // One row per `detail` the server sends (RFC 9449 §4.3 checks, then the token's binding).
    cases: [
      proofRefusedOn(
        "missing",
        () => 'the token came as "Authorization: DPoP" without a DPoP header',
        () =>
          "send one DPoP header with a proof per call (--dpop-key FILE here); something in between may drop it (browsers: the server must answer Access-Control-Allow-Headers: DPoP).",
      ),
      proofRefusedOn(
        "multiple",
        () => "more than one DPoP header reached the server",
        () => "send one DPoP header per request (check interceptors and proxies that add one).",
      ),
      proofRefusedOn(
        "format",
        () => "it is not a compact JWS the server reads (three base64url parts; no crit or b64 header)",
        () => "send the proof as a compact JWS (header.payload.signature) signed by the DPoP key.",
      ),
      proofRefusedOn(
        "typ",
        () => 'its typ is not "dpop+jwt"',
        () => 'set the proof\'s protected header typ to "dpop+jwt" (RFC 9449 §4.2).',
      ),
      proofRefusedOn(
        "alg",
        (s) => `its algorithm is not one the server takes${dpopAlgs(s) === undefined ? "" : ` (it takes ${dpopAlgs(s)})`}`,
        (s) =>
          `sign the proofs with an algorithm of the server's DPoP challenge${dpopAlgs(s) === undefined ? "" : ` (${dpopAlgs(s)})`}, or add yours to its createJwtAuthenticator({ dpop: { algorithms } }) (asymmetric only).`,
      ),
      proofRefusedOn(
        "jwk",
        () =>
          "its jwk header is not a public key for its algorithm (missing, with private members, or a use or alg that does not fit)",
        () => "put the public JWK of the signing key in the proof's jwk header, its public members only.",
      ),
      proofRefusedOn(
        "signature",
        () => "its signature does not verify with the key in its jwk header",
        () => "sign the proof with the private key whose public key is in its jwk header.",
      ),
      proofRefusedOn(
        "jti",
        () => "it has no usable jti",
        () => "give each proof a new random jti (a UUID).",
      ),
      proofRefusedOn(
        "htm",
        () => "its htm is not the request's HTTP method",
        () =>
          "set htm to the request's method: POST for Connect, gRPC and gRPC-web (GET for Connect GET calls: createDpopProver({ useHttpGet }) as the transport's useHttpGet).",
      ),
      proofRefusedOn(
        "htu",
        () => "its htu is not the URL the server received the call at",
        (s) =>
          `set htu to the URL of the call without query or fragment (the base URL, then /${s.method}); behind a proxy, the server must know the origin clients call: createJwtAuthenticator({ dpop: { publicOrigin } }).`,
      ),
      proofRefusedOn(
        "iat",
        () => "its iat is too far from the server's clock",
        () =>
          "make a new proof for each call with iat now, and synchronize the clocks (NTP); the server's window is createJwtAuthenticator({ dpop: { iatWindowSeconds } }) (default 60) plus its clockToleranceSeconds.",
      ),
      proofRefusedOn(
        "ath",
        () => "its ath is not the hash of the token sent with it",
        () =>
          "set ath to base64url(SHA-256(token)) of the token in the Authorization header; a refreshed token needs a new proof.",
      ),
      proofRefusedOn(
        "nonce",
        () => "its nonce is not one the server issued, or no longer current",
        () =>
          "make the proof again with the nonce of the server's last DPoP-Nonce header; @connectauth/client does this by itself.",
      ),
      proofRefusedOn(
        "jti_replay",
        () => "the server has seen this proof before (its jti was replayed)",
        () =>
          "make a new proof for every request, retries included; something that resends requests (a proxy's retry) must not resend the DPoP header as it is.",
      ),
      {
        id: "invalid_dpop_proof",
        when: (s) => detail(s) === "jkt" && keyOf(s) !== undefined && boundTo(s) === undefined,
        says: (s) => ({
          summary: "the server refused the DPoP proof: the token is bound to no key (no cnf.jkt), so no proof can prove it.",
          fix: `${boundToken(keyOf(s))}.`,
        }),
      },
      proofRefusedOn(
        "jkt",
        (s) =>
          keyOf(s) !== undefined && boundTo(s) !== undefined
            ? `the token is bound to the key ${boundTo(s)} (cnf.jkt), and the proof was signed by ${keyOf(s)}`
            : "the token is not bound to the key that signed the proof (its cnf.jkt is another thumbprint, or none)",
        (s) => `sign the proofs with the key the token was issued for, or ${boundToken(keyOf(s))}.`,
      ),
    ],
    otherwise: {
      id: "invalid_dpop_proof",
      says: (s) => ({
        summary: `the server refused the DPoP proof${detail(s) === undefined ? "" : ` (check: ${detail(s)})`}.`,
        fix: "send one fresh DPoP proof per call, signed by the key the token is bound to, for this call's method and URL (RFC 9449 §4.3).",
      }),
    },
  },
  USE_DPOP_NONCE: {
    cases: [
      {
        id: "use_dpop_nonce",
        when: (s) => s.dpop?.nonceRetried === true,
        says: () => ({
          summary:
            "the server asked for a nonce again after the call was made with the nonce it had sent (DPoP-Nonce): its nonces are not the same from one call to the next.",
          fix: "the servers behind this address do not share a nonce secret: give every instance the same createJwtAuthenticator({ dpop: { nonce: { secret } } }) (the example server: --dpop-nonce-secret).",
        }),
      },
    ],
    otherwise: {
      id: "use_dpop_nonce",
      says: () => ({
        summary: "the server wants the DPoP proof to carry its nonce (sent in the DPoP-Nonce response header).",
        fix: "make the proof again with the nonce of the DPoP-Nonce header and retry once; @connectauth/client does this by itself.",
      }),
    },
  },
  REVOCATION_UNAVAILABLE: {
    cases: [],
    otherwise: {
      id: "revocation_unavailable",
      says: () => ({
        summary:
          "the server cannot tell whether tokens are revoked (its revocation list is out of date): a server-side outage, not your token.",
        fix: "on the server, check that it can reach its Redis. Clients should retry later, not refresh their token.",
      }),
    },
  },
  REPLAY_STORE_UNAVAILABLE: {
    cases: [],
    otherwise: {
      id: "replay_store_unavailable",
      says: () => ({
        summary: "the server cannot check DPoP proofs for replay (its replay store did not answer): a server-side outage.",
        fix: "on the server, check that it can reach its Redis. Clients should retry later with a new proof.",
      }),
    },
  },
};

/** Failures without a connectauth reason. */
const others: Choice<CallSituation> = {
  cases: [
    {
      id: "method_not_found",
      when: (s) => s.call.code === Code.Unimplemented,
      says: (s) => ({
        summary: `the server does not serve ${s.method}.`,
        fix: "check the package, service and method names (case matters) and the base URL's path prefix.",
      }),
    },
    {
      id: "auth_failure_without_details",
      when: (s) => s.call.code === Code.Unauthenticated || s.call.code === Code.PermissionDenied,
      says: ({ call }) => ({
        summary: `${call.codeName} without a connectauth reason${call.challenge ? ` (challenge: ${call.challenge})` : ""}: "${call.message}".`,
        fix: "the answer does not come from connectauth (a gateway or another interceptor?): check what runs in front of the service.",
      }),
    },
    {
      id: "call_failed",
      when: (s) => s.call.code === Code.Unavailable || s.call.code === Code.Unknown,
      says: ({ call }) => ({
        summary: callFailed(call),
        fix: "check the server's logs; the transport and auth checks above passed.",
      }),
    },
  ],
  otherwise: {
    id: "call_failed",
    says: ({ call }) => ({ summary: callFailed(call), fix: "auth passed or was not involved: look at the handler." }),
  },
};

/**
 * The verdict of a call's answer: `ok`, the cause of a connectauth failure (by its reason, then its
 * `detail` and the token's facts), or what a failure without a connectauth reason means.
 *
 * ```ts
 * callVerdict({ method, token: tokenFacts(token, Date.now()), call: callOutcome(error, facts) }).id;
 * // "insufficient_scope"
 * ```
 *
 * Not checked: the token's signature (its facts are what it says of itself).
 */
export function callVerdict(s: CallSituation): Verdict {
  const choice = s.call.code === 0 ? passed : s.call.reason !== undefined ? failures[s.call.reason] : others;
  return choose(choice, s);
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
