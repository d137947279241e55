import type { TransportFacts } from "../transport-probe.js";

/** A server that answered in plaintext on both HTTP versions: the transport facts most unit tests start from. */
export const plaintextTransport: TransportFacts = {
  reachable: true,
  connectError: undefined,
  speaksTls: false,
  alpn: undefined,
  certificateError: undefined,
  http1: true,
  http2: true,
};
