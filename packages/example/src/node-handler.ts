import type * as http from "node:http";
import type * as http2 from "node:http2";

/** A request handler for both the HTTP/1.1 and the HTTP/2 server (what connectNodeAdapter returns). */
export type NodeHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;
