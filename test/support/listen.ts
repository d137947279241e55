// Starts a Node HTTP, HTTP/2 or TLS server on 127.0.0.1 (port 0) and closes it for good: every socket
// it accepted is destroyed, so that idle HTTP/2 sessions of clients cannot keep it (and the test) alive.
import type { AddressInfo, Server, Socket } from "node:net";

export interface Listening {
  /** `127.0.0.1:port` */
  readonly hostPort: string;
  close(): Promise<void>;
}

export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
