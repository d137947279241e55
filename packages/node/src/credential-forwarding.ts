import { AsyncLocalStorage } from "node:async_hooks";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { authorizationHeader, parseAuthorization } from "@connectauth/core";

/** Options of {@link createCredentialForwarding}. */
export interface CredentialForwardingOptions {
  /**
   * Exchanges the caller's bearer token for the token to send downstream (RFC 8693 token exchange, a
   * token for another audience). Called once per downstream call. Default: forward the caller's
   * `Authorization` value as it came.
   */
  readonly exchange?: (token: string) => string | Promise<string>;
}

/** The two interceptors of {@link createCredentialForwarding}, and a way to set the credential by hand. */
export interface CredentialForwarding {
  /** For the server's router `interceptors`: remembers the caller's `Authorization` for the call. */
  readonly serverInterceptor: Interceptor;
  /**
   * For the transports to downstream services: sends the remembered credential (or its exchange), and
   * relays a downstream error with its code, message, details and challenge only, so that the original
   * caller sees the downstream service's reason (not `Internal`) and no foreign response header.
   */
  readonly clientInterceptor: Interceptor;
  /** Runs `fn` as if it served a call with this `Authorization` value (for work started outside an RPC). */
  run<T>(authorization: string | undefined, fn: () => T): T;
}

interface Caller {
  readonly authorization: string | undefined;
}

/**
 * Forwards the caller's credential along a chain of calls (A → B → C) through `AsyncLocalStorage`,
 * without passing it by hand: the server interceptor remembers the credential of each call it serves,
 * the client interceptor puts it on every call the handler makes downstream. A call that already has an
 * `Authorization` header keeps it. The credential is never logged nor put in an error.
 *
 * ```ts
 * const forwarding = createCredentialForwarding();
 * const downstream = createClient(Inventory, createGrpcTransport({
 *   baseUrl, interceptors: [forwarding.clientInterceptor],
 * }));
 * connectNodeAdapter({ routes, requestGate: auth.requestGate,
 *   interceptors: [auth.interceptor, forwarding.serverInterceptor] });
 * ```
 *
 * Forward only to services you trust with the caller's token; with `exchange`, send each one a token of
 * its own audience instead.
 */
export function createCredentialForwarding(options: CredentialForwardingOptions = {}): CredentialForwarding {
  const exchange = options.exchange;
  if (exchange !== undefined && typeof exchange !== "function") {
    throw new TypeError("createCredentialForwarding: exchange must be a function");
  }
  const storage = new AsyncLocalStorage<Caller>();

  const serverInterceptor: Interceptor = (next) => async (req) => {
    const caller: Caller = { authorization: req.header.get(authorizationHeader) ?? undefined };
    const res = await storage.run(caller, () => next(req));
    if (!res.stream) return res;
    // A streaming handler runs as its messages are pulled, after `next` returned: pull them in the call's context.
    return { ...res, message: bind(storage, caller, res.message) };
  };

  const clientInterceptor: Interceptor = (next) => async (req) => {
    const authorization = storage.getStore()?.authorization;
    if (authorization !== undefined && !req.header.has(authorizationHeader)) {
      req.header.set(authorizationHeader, await downstreamValue(authorization, exchange));
    }
    try {
      return await next(req);
    } catch (e) {
      throw relay(e);
    }
  };

  return {
    serverInterceptor,
    clientInterceptor,
    run: (authorization, fn) => storage.run({ authorization }, fn),
  };
}

async function downstreamValue(
  authorization: string,
  exchange: ((token: string) => string | Promise<string>) | undefined,
): Promise<string> {
  if (exchange === undefined) return authorization;
  const credentials = parseAuthorization(authorization);
  if (credentials?.scheme !== "bearer") return authorization;
  return `Bearer ${await exchange(credentials.value)}`;
}

/** A downstream error, stripped to what the original caller should see: code, message, details, challenge. */
function relay(error: unknown): unknown {
  if (!(error instanceof ConnectError)) return error;
  const metadata = new Headers();
  const challenge = error.metadata.get("www-authenticate");
  if (challenge !== null) metadata.set("www-authenticate", challenge);
  const relayed = new ConnectError(error.rawMessage, error.code, metadata);
  relayed.details.push(...error.details);
  return relayed;
}

function bind<T>(storage: AsyncLocalStorage<Caller>, caller: Caller, iterable: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = iterable[Symbol.asyncIterator]();
      return {
        next: (...args) => storage.run(caller, () => it.next(...args)),
        return: (value) => storage.run(caller, () => it.return?.(value) ?? Promise.resolve({ done: true, value })),
        throw: (e) => storage.run(caller, () => it.throw?.(e) ?? Promise.reject(e)),
      };
    },
  };
}
