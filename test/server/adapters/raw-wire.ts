// Raw clients that send request headers exactly as given, one field per entry: a header twice is two
// fields on the wire (connect's clients go through `Headers`, which folds two values into one field).
// HTTP/1.1 is written by hand on a TCP socket (TLS when the URL is https); HTTP/2 is node:http2's client
// with the request's HEADERS frame encoded here. The answer is read with connect's own protocol parsers.
import * as http2 from "node:http2";
import * as net from "node:net";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { type Code, ConnectError } from "@connectrpc/connect";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { readAuthFailure } from "@connectauth/core";
import type { Protocol } from "./setups.js";

/** Request header fields in wire order; a name given twice is sent as two fields. */
export type RawHeaderFields = readonly (readonly [name: string, value: string])[];

/** What came back: status, headers, the body (de-chunked) and HTTP/2 trailers. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  /** HTTP/2 trailers; always empty over HTTP/1.1 (gRPC-web carries its trailers in the body). */
  readonly trailers: Headers;
  readonly body: Uint8Array;
}

/** One POST of `body` to `path` with exactly `fields` (plus Host, Content-Length, Connection: close). */
export function http1Post(
  url: string,
  path: string,
  fields: RawHeaderFields,
  body: Uint8Array,
  ca?: string,
): Promise<RawResponse> {
  const { hostname, port, protocol } = new URL(url);
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
    fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const options = { host: hostname, port: Number(port) };
    const socket =
      protocol === "https:"
        ? tls.connect({ ...options, ca, servername: "localhost", ALPNProtocols: ["http/1.1"] })
        : net.connect(options);
    const chunks: Buffer[] = [];
    socket.once(protocol === "https:" ? "secureConnect" : "connect", () => {
      // Not half-closed: Node's HTTP/1.1 server drops a request whose client ended its side. The server
      // closes the connection after its answer (Connection: close).
      socket.write(Buffer.concat([Buffer.from(head, "latin1"), body]));
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", reject);
    socket.once("end", () => {
      try {
        resolve(parseHttp1Response(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function parseHttp1Response(data: Buffer): RawResponse {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) throw new Error("no complete HTTP/1.1 response head");
  const [statusLine, ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = data.subarray(end + 4);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) body = dechunk(body);
  else if (headers.has("content-length")) body = body.subarray(0, Number(headers.get("content-length")));
  return { status: Number(statusLine!.split(" ")[1]), headers, trailers: new Headers(), body };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * One POST over a new HTTP/2 session, with exactly `fields` in its HEADERS frame. node:http2's client
 * refuses to send a single-value header such as `authorization` twice (`ERR_HTTP2_HEADER_SINGLE_VALUE`),
 * so the session runs over a pass-through connection that replaces the HEADERS frame of stream 1 with
 * one encoded here: each field a literal without indexing (RFC 7541 §6.2.2, no Huffman). The rest of the
 * exchange (settings, data, the answer and its decoding) is node:http2's own.
 */
export function http2Post(
  url: string,
  path: string,
  fields: RawHeaderFields,
  body: Uint8Array,
  ca?: string,
): Promise<RawResponse> {
  const target = new URL(url);
  const block = hpackLiterals([
    [":method", "POST"],
    [":scheme", target.protocol.slice(0, -1)],
    [":authority", target.host],
    [":path", path],
    ...fields.map(([n, v]) => [n.toLowerCase(), v] as const),
  ]);
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, {
      createConnection: () => {
        const options = { host: target.hostname, port: Number(target.port) };
        const socket =
          target.protocol === "https:"
            ? tls.connect({ ...options, ca, servername: "localhost", ALPNProtocols: ["h2"] })
            : net.connect(options);
        return withHeadersBlock(socket, block);
      },
    });
    session.once("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path });
    let status = 0;
    const headers = new Headers();
    const trailers = new Headers();
    const copy = (from: http2.IncomingHttpHeaders, to: Headers) => {
      for (const [k, v] of Object.entries(from)) {
        if (k.startsWith(":") || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [String(v)]) to.append(k, one);
      }
    };
    stream.once("response", (h) => {
      status = Number(h[":status"]);
      copy(h, headers);
    });
    stream.once("trailers", (t) => copy(t, trailers));
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("error", reject);
    stream.once("end", () => {
      session.close();
      resolve({ status, headers, trailers, body: Buffer.concat(chunks) });
    });
    stream.end(body);
  });
}

/** RFC 7541 header block of literal fields without indexing, new names, no Huffman coding. */
function hpackLiterals(fields: RawHeaderFields): Buffer {
  const int7 = (n: number): number[] => {
    if (n < 127) return [n];
    const out = [127];
    for (n -= 127; n >= 128; n >>= 7) out.push((n & 127) | 128);
    out.push(n);
    return out;
  };
  const string = (s: string) => {
    const bytes = Buffer.from(s, "latin1");
    return Buffer.concat([Buffer.from(int7(bytes.length)), bytes]);
  };
  return Buffer.concat(fields.flatMap(([n, v]) => [Buffer.from([0]), string(n), string(v)]));
}

const frameHeaders = 0x1;
const flagEndStream = 0x1;
const flagEndHeaders = 0x4;

/**
 * A connection to hand node:http2's client: bytes pass through both ways, except the client's HEADERS
 * frame of stream 1, sent as `block` instead (END_STREAM kept; no padding, priority or CONTINUATION).
 */
function withHeadersBlock(socket: net.Socket, block: Buffer): Duplex {
  let pending = Buffer.alloc(0);
  let preface = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" comes before the first frame
  const connection = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      if (preface > 0) {
        const n = Math.min(preface, pending.length);
        out.push(pending.subarray(0, n));
        pending = pending.subarray(n);
        preface -= n;
      }
      while (preface === 0 && pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        const type = pending[3]!;
        const streamId = pending.readUInt32BE(5) & 0x7fffffff;
        if (type === frameHeaders && streamId === 1) {
          const head = Buffer.alloc(9);
          head.writeUIntBE(block.length, 0, 3);
          head[3] = frameHeaders;
          head[4] = (pending[4]! & flagEndStream) | flagEndHeaders;
          head.writeUInt32BE(1, 5);
          out.push(head, block);
        } else {
          out.push(pending.subarray(0, 9 + length));
        }
        pending = pending.subarray(9 + length);
      }
      if (out.length === 0) callback();
      else socket.write(Buffer.concat(out), callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (chunk: Buffer) => {
    if (!connection.push(chunk)) socket.pause();
  });
  socket.once("end", () => connection.push(null));
  socket.once("error", (e) => connection.destroy(e));
  return connection;
}

/** The outcome of a call as the adapter suite states it: "OK", or its code, reason and challenge. */
export interface RawOutcome {
  readonly code: Code | "OK";
  readonly reason: string | undefined;
  readonly challenge: string | null;
}

/** Where to call: the server's URL, its HTTP version, and the CA for https. */
export interface RawTarget {
  readonly url: string;
  readonly httpVersion: "1.1" | "2";
  readonly ca?: string;
}

/** The protocol's header fields and body of a unary call with the empty request message. */
export function emptyUnaryRequest(protocol: Protocol): [RawHeaderFields, Uint8Array] {
  const emptyMessage = new Uint8Array([0, 0, 0, 0, 0]); // an envelope of zero bytes: the empty message
  switch (protocol) {
    case "connect":
      return [
        [
          ["content-type", "application/json"],
          ["connect-protocol-version", "1"],
        ],
        new TextEncoder().encode("{}"),
      ];
    case "grpc":
      return [
        [
          ["content-type", "application/grpc+proto"],
          ["te", "trailers"],
        ],
        emptyMessage,
      ];
    case "grpc-web":
      return [
        [
          ["content-type", "application/grpc-web+proto"],
          ["x-grpc-web", "1"],
        ],
        emptyMessage,
      ];
  }
}

/**
 * Calls the unary `path` (e.g. `/example.v1.GreeterService/Greet`) with an empty request message over
 * `protocol`, sending `fields` as they are, and reads the outcome with connect's parsers.
 */
export async function rawUnary(
  target: RawTarget,
  protocol: Protocol,
  path: string,
  fields: RawHeaderFields,
): Promise<RawOutcome> {
  const [protocolFields, body] = emptyUnaryRequest(protocol);
  const post = target.httpVersion === "2" ? http2Post : http1Post;
  const res = await post(target.url, path, [...protocolFields, ...fields], body, target.ca);
  let error: ConnectError | undefined;
  let challenge: string | null;
  if (protocol === "connect") {
    challenge = res.headers.get("www-authenticate");
    if (res.status !== 200) {
      error = errorFromJsonBytes(res.body, res.headers, new ConnectError(`HTTP ${res.status} without a Connect error`));
    }
  } else {
    // gRPC: trailers, or the headers of a trailers-only answer; gRPC-web: also the trailer frame of the body.
    const status = new Headers(res.headers);
    for (const [k, v] of res.trailers) status.append(k, v);
    if (protocol === "grpc-web") {
      for (let at = 0; at + 5 <= res.body.length; ) {
        const length = new DataView(res.body.buffer, res.body.byteOffset + at + 1, 4).getUint32(0);
        if ((res.body[at]! & trailerFlag) === trailerFlag) {
          for (const [k, v] of trailerParse(res.body.subarray(at + 5, at + 5 + length))) status.append(k, v);
        }
        at += 5 + length;
      }
    }
    if (status.get("grpc-status") === null) throw new Error(`no grpc-status in the answer (HTTP ${res.status})`);
    challenge = status.get("www-authenticate");
    error = findTrailerError(status);
  }
  if (error === undefined) return { code: "OK", reason: undefined, challenge };
  return { code: error.code, reason: readAuthFailure(error)?.reason, challenge };
}
