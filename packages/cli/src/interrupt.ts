/**
 * A signal that aborts at the first SIGINT (Ctrl-C) or SIGTERM the process receives, for commands
 * that run until interrupted. Its listeners are removed once it has aborted.
 *
 * ```ts
 * const signal = io.signal ?? processInterrupt();
 * await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
 * ```
 *
 * Not handled: a second Ctrl-C while the command closes (it then gets Node's default, exiting).
 */
export function processInterrupt(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    controller.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}
