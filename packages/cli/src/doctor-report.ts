import type { Diagnosis } from "./diagnose.js";
import type { Style } from "./style.js";
import type { TokenFacts } from "./token-facts.js";
import { humanDuration } from "./duration.js";

/**
 * The readable report of a {@link Diagnosis}: transport, health, token, call, notes, then the verdict
 * and fix.
 *
 * ```ts
 * io.stdout.write(formatDiagnosis(await diagnose(options), styleFor(io)));
 * ```
 */
export function formatDiagnosis(d: Diagnosis, s: Style): string {
  const ok = (text: string) => `  ${s.green("✓")} ${text}`;
  const bad = (text: string) => `  ${s.red("✗")} ${text}`;
  const out: string[] = [];
  const t = d.transport;
  const http = d.target.httpVersion === null ? "" : `, HTTP/${d.target.httpVersion}`;
  out.push(
    `${s.bold("connectauth doctor")} ${d.target.baseUrl} ${d.target.method} ${s.dim(`(${d.target.protocol}${http})`)}`,
    "",
  );
  out.push(s.bold("transport"));
  if (!t.reachable) {
    out.push(bad(`not reachable (${t.connectError})`));
  } else {
    out.push(ok("reachable"));
    const scheme = d.target.baseUrl.startsWith("https:") ? "https" : "http";
    const tlsOk = t.speaksTls === (scheme === "https");
    const tlsText = t.speaksTls ? `speaks TLS${t.alpn ? ` (ALPN ${t.alpn})` : ""}` : "speaks plaintext";
    out.push((tlsOk ? ok : bad)(`${tlsText}; the URL says ${scheme}`));
    if (t.speaksTls)
      out.push(t.certificateError === undefined ? ok("certificate trusted") : bad(`certificate: ${t.certificateError}`));
    if (tlsOk && t.certificateError === undefined) {
      out.push(`  ${t.http1 ? s.green("✓") : s.red("✗")} HTTP/1.1   ${t.http2 ? s.green("✓") : s.red("✗")} HTTP/2`);
    }
  }
  if (d.health !== null) out.push("", s.bold("health"), ...healthLines(d.health, s));
  out.push("", s.bold("token"));
  out.push(...(d.token === null ? ["  none sent"] : tokenLines(d.token, s)));
  if (d.dpop.keyJkt !== null || d.dpop.tokenJkt !== null) out.push("", s.bold("dpop"), ...dpopLines(d.dpop, s));
  if (d.call !== null) {
    const c = d.call;
    out.push("", s.bold("call"));
    out.push(c.code === 0 ? ok("OK") : bad(`${c.codeName} (${c.code})${c.reason ? `  ${s.bold(c.reason)}` : ""}`));
    const field = (name: string, value: string | undefined) => {
      if (value !== undefined && value !== "") out.push(`    ${s.dim(name.padEnd(10))} ${value}`);
    };
    field("message", c.message);
    field("challenge", c.challenge);
    field("detail", c.metadata["detail"]);
    if (c.requiredScopes.length > 0) {
      field("required", c.requiredScopes.join(" "));
      field("granted", c.grantedScopes.join(" ") || "(none)");
      field("missing", c.missingScopes.join(" "));
    }
  }
  if (d.notes.length > 0) {
    out.push("", s.bold("notes"), ...d.notes.map((n) => `  ${s.yellow("!")} ${n}`));
  }
  out.push("");
  if (d.verdict.ok) {
    out.push(`${s.green(s.bold("verdict: ok"))}  ${d.verdict.summary}`);
  } else {
    out.push(`${s.red(s.bold(`verdict: ${d.verdict.id}`))}  ${d.verdict.summary}`);
    out.push(`${s.bold("fix:")} ${d.verdict.fix}`);
  }
  return `${out.join("\n")}\n`;
}

/** The lines of the health Check: its verdict (and fix) and the readiness words; a skip says "see notes". */
function healthLines(h: NonNullable<Diagnosis["health"]>, s: Style): string[] {
  if (h.verdict === null) return [`  ${s.dim("skipped (see notes)")}`];
  const lines = h.verdict.ok
    ? [`  ${s.green("✓")} ${h.verdict.summary}`]
    : [`  ${s.red("✗")} ${s.bold(h.verdict.id)}  ${h.verdict.summary}`, `    ${s.dim("fix".padEnd(10))} ${h.verdict.fix}`];
  for (const i of h.readiness) lines.push(`    ${s.dim(`${i.kind} ${i.name}`.padEnd(10))} ${i.word}`);
  return lines;
}

/** The lines describing the DPoP of the call: thumbprints, and whether a nonce was followed. */
function dpopLines(p: Diagnosis["dpop"], s: Style): string[] {
  const field = (name: string, value: string) => `  ${s.dim(name.padEnd(10))} ${value}`;
  const lines = [
    field("key", p.keyJkt === null ? "none (the token was sent as Bearer)" : `${p.keyJkt} (--dpop-key)`),
    field("token", p.tokenJkt === null ? "bound to no key (no cnf.jkt)" : `bound to ${p.tokenJkt}`),
  ];
  if (p.keyJkt !== null && p.tokenJkt !== null) {
    lines.push(
      p.keyJkt === p.tokenJkt ? `  ${s.green("✓")} the key is the token's` : `  ${s.red("✗")} the key is not the token's`,
    );
  }
  if (p.nonceRetried) lines.push(field("nonce", "the server asked for one; the call was made once more with it"));
  return lines;
}

/** The lines describing a decoded token (shared with `connectauth token decode`). */
export function tokenLines(t: TokenFacts, s: Style): string[] {
  const lines = [`  ${s.dim("sha256/8".padEnd(10))} ${t.hash}`];
  if (!t.isJwt) {
    lines.push(`  ${s.yellow("!")} ${t.formatProblem}`);
    return lines;
  }
  const field = (name: string, value: string | undefined) => lines.push(`  ${s.dim(name.padEnd(10))} ${value ?? s.dim("-")}`);
  field("alg", t.alg);
  field("kid", t.kid);
  field("typ", t.typ);
  field("iss", t.iss);
  field("sub", t.sub);
  field("aud", t.aud.join(" ") || undefined);
  field("scopes", t.scopes.join(" ") || undefined);
  const when = (sec: number | undefined, rel: number | undefined, past: string, future: string) =>
    sec === undefined || rel === undefined
      ? undefined
      : `${new Date(sec * 1000).toISOString()} (${rel <= 0 ? `${past} ${humanDuration(rel)} ago` : `${future} ${humanDuration(rel)}`})`;
  field("exp", t.exp === undefined ? undefined : when(t.exp, t.expiresInSeconds, s.red("expired"), "valid for"));
  field("nbf", t.nbf === undefined ? undefined : when(t.nbf, t.notBeforeInSeconds, "valid since", s.red("not valid for")));
  field("iat", t.iat === undefined ? undefined : new Date(t.iat * 1000).toISOString());
  return lines;
}
