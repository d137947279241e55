import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";

/** What {@link probeTransport} found out about a server's transport, before any RPC. */
export interface TransportFacts {
  /** Whether a TCP connection could be made. */
  readonly reachable: boolean;
  /** The socket error when not reachable, e.g. `"ECONNREFUSED"`, `"ETIMEDOUT"`, `"ENOTFOUND"`. */
  readonly connectError: string | undefined;
  /** Whether the server completed a TLS handshake (whatever the URL's scheme says). */
  readonly speaksTls: boolean;
  /** The protocol chosen by ALPN when offered `h2` and `http/1.1`; `undefined` without TLS or ALPN. */
  readonly alpn: string | undefined;
  /** The certificate verification error (Node's code, e.g. `"DEPTH_ZERO_SELF_SIGNED_CERT"`, `"ERR_TLS_CERT_ALTNAME_INVALID"`), when TLS and not trusted. */
  readonly certificateError: string | undefined;
  /** Whether it answers HTTP/1.1 (in the URL's scheme). */
  readonly http1: boolean;
  /** Whether it answers HTTP/2 (h2 over TLS, or h2c prior knowledge over plaintext). */
  readonly http2: boolean;
}

/** Options of {@link probeTransport}. */
export interface ProbeOptions {
  readonly timeoutMs?: number;
  /** Extra trusted CA certificates (PEM). */
  readonly ca?: string;
}

/**
 * Probes the transport of `url` with short connections: TCP reachability, whether the port speaks TLS
 * (whatever the scheme), certificate trust, ALPN, and whether HTTP/1.1 and HTTP/2 are answered.
 *
 * ```ts
 * const facts = await probeTransport(new URL("https://127.0.0.1:8443"));
 * if (facts.certificateError) console.log(facts.certificateError);
 * ```
 */
export async function probeTransport(url: URL, options: ProbeOptions = {}): Promise<TransportFacts> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const secure = url.protocol === "https:";
  const port = Number(url.port || (secure ? 443 : 80));
  const connectError = await tcpConnect(host, port, timeoutMs);
  if (connectError !== undefined) {
    return {
      reachable: false,
      connectError,
      speaksTls: false,
      alpn: undefined,
      certificateError: undefined,
      http1: false,
      http2: false,
    };
  }
  const handshake = await tlsHandshake(host, port, ["h2", "http/1.1"], options.ca, timeoutMs);
  const speaksTls = handshake !== undefined;
  let http1 = false;
  let h2 = false;
  if (speaksTls === secure) {
    // Ask in the scheme the URL says (a mismatch is reported as such; no point probing further).
    http1 = await answersHttp1(host, port, secure, options.ca, timeoutMs);
    h2 = secure ? handshake?.alpn === "h2" : await answersH2c(url, timeoutMs);
  }
  return {
    reachable: true,
    connectError: undefined,
    speaksTls,
    alpn: handshake?.alpn,
    certificateError: handshake?.certificateError,
    http1,
    http2: h2,
  };
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve("ETIMEDOUT");
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "ECONNECT"));
  });
}

interface Handshake {
  readonly alpn: string | undefined;
  readonly certificateError: string | undefined;
}

/** A TLS handshake without trusting anything, so that an untrusted certificate is seen and named. */
function tlsHandshake(
  host: string,
  port: number,
  alpn: string[],
  ca: string | undefined,
  timeoutMs: number,
): Promise<Handshake | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      servername: net.isIP(host) === 0 ? host : undefined,
      ALPNProtocols: alpn,
      rejectUnauthorized: false,
      ...(ca === undefined ? {} : { ca }),
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("secureConnect", () => {
      let certificateError = socket.authorizationError === null ? undefined : String(socket.authorizationError);
      if (certificateError === undefined) {
        // Node checks the chain here but not the name: check it as a client would.
        const nameError = tls.checkServerIdentity(host, socket.getPeerCertificate());
        if (nameError !== undefined)
          certificateError = (nameError as NodeJS.ErrnoException).code ?? "ERR_TLS_CERT_ALTNAME_INVALID";
      }
      const result = { alpn: socket.alpnProtocol || undefined, certificateError };
      socket.destroy();
      resolve(result);
    });
    socket.once("error", () => resolve(undefined));
  });
}

function answersHttp1(host: string, port: number, secure: boolean, ca: string | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: net.Socket = secure
      ? tls.connect({
          host,
          port,
          ALPNProtocols: ["http/1.1"],
          rejectUnauthorized: false,
          servername: net.isIP(host) === 0 ? host : undefined,
          ...(ca === undefined ? {} : { ca }),
        })
      : net.connect({ host, port });
    let received = "";
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once(secure ? "secureConnect" : "connect", () => {
      socket.write(`OPTIONS * HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.length >= 7) done(received.startsWith("HTTP/1."));
    });
    socket.once("end", () => done(received.startsWith("HTTP/1.")));
    socket.once("error", () => done(false));
  });
}

function answersH2c(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(url.origin);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      session.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    // The server's SETTINGS frame: only an HTTP/2 server sends one.
    session.once("remoteSettings", () => done(true));
    session.once("error", () => done(false));
    session.once("close", () => done(false));
  });
}
