import { AsyncLocalStorage } from "node:async_hooks";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  ClientReason,
  type Credentials,
  assertSecureTransport,
  authorizationHeader,
  parseAuthorization,
} from "@connectauth/core";
import { clientRefusal, isToken68 } from "@connectauth/core/protocol";

/** Options of {@link createCredentialForwarding}. */
export interface CredentialForwardingOptions {
  /**
   * Exchanges the caller's bearer token for the token to send downstream (RFC 8693 token exchange, a
   * token for another audience). Called once per downstream call. Default: forward the caller's
   * `Authorization` value as it came.
   */
  readonly exchange?: (token: string) => string | Promise<string>;
  /**
   * Forward credentials over plaintext `http://` to downstream hosts that are not loopback, for a network
   * secured otherwise (a mesh with mTLS). Default `false`: such downstream calls fail before a request is
   * made (`FailedPrecondition`, `INSECURE_TRANSPORT`), as in the client interceptor. Loopback hosts
   * (exactly `localhost`, `127.0.0.0/8`, `[::1]`) are always allowed; schemes other than `https:` and
   * `http:` never.
   */
  readonly allowInsecureTransport?: boolean;
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
 * Before a credential goes downstream, the client interceptor applies the client's guards:
 * - the plaintext guard of `assertSecureTransport` (core): the downstream URL, as the WHATWG parser reads
 *   it (`HTTP://` is `http:`), must be `https:`, or `http:` to a loopback host (`localhost`,
 *   `127.0.0.0/8`, `[::1]`), unless `allowInsecureTransport`; otherwise `FailedPrecondition`
 *   `INSECURE_TRANSPORT`, before `exchange` is called;
 * - the value sent is `<scheme> <token68>`: an `exchange` result that is not a token68 (empty, CR, LF,
 *   space, non-ASCII…), or a credential given to `run` that does not parse, fails with `Unavailable`
 *   `TOKEN_UNAVAILABLE` (`metadata.detail` `malformed_token`), and nothing is sent.
 *
 * ```ts
 * const forwarding = createCredentialForwarding();
 * const downstream = createClient(Inventory, createGrpcTransport({
 *   baseUrl, interceptors: [forwarding.clientInterceptor],
 * }));
 * connectNodeAdapter(auth.install({ routes, interceptors: [forwarding.serverInterceptor] }));
 * ```
 *
 * Forward only to services you trust with the caller's token; with `exchange`, send each one a token of
 * its own audience instead. Not checked: whether the downstream service is one you meant to trust (any
 * `https:` URL the handler calls gets the credential), nor what the exchanged token says.
 *
 * @throws TypeError when `exchange` is not a function.
 */
export function createCredentialForwarding(options: CredentialForwardingOptions = {}): CredentialForwarding {
  const exchange = options.exchange;
  if (exchange !== undefined && typeof exchange !== "function") {
    throw new TypeError("createCredentialForwarding: exchange must be a function");
  }
  const guard = { allowInsecureTransport: options.allowInsecureTransport === true };
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
      const credentials = forwarded(authorization);
      if (credentials !== undefined) {
        assertSecureTransport(req.url, guard);
        req.header.set(authorizationHeader, await downstreamValue(authorization, credentials, exchange));
      }
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

/**
 * The credential to forward: `undefined` for none (absent or blank), the parsed credential otherwise;
 * throws `TOKEN_UNAVAILABLE` (`malformed_token`) for a value that is not `<scheme> <token68>` (which only
 * `run` can give: the server's own parsing refuses such a header), rather than sending or quoting it.
 */
function forwarded(authorization: string): Credentials | undefined {
  try {
    return parseAuthorization(authorization);
  } catch {
    throw malformedToken("the credential to forward is not <scheme> <token68>");
  }
}

/** What goes downstream: the caller's value as it came, or `Bearer <exchanged token>`, a token68. */
async function downstreamValue(
  authorization: string,
  credentials: Credentials,
  exchange: ((token: string) => string | Promise<string>) | undefined,
): Promise<string> {
  if (exchange === undefined || credentials.scheme !== "bearer") return authorization;
  const token = await exchange(credentials.value);
  if (!isToken68(token)) throw malformedToken("the exchanged token is not a token68 (RFC 6750 §2.1)");
  return `Bearer ${token}`;
}

/** The client's `TOKEN_UNAVAILABLE` refusal, `detail: "malformed_token"`: nothing was sent downstream. */
function malformedToken(what: string): ConnectError {
  return clientRefusal(ClientReason.TokenUnavailable, `connectauth forwarded nothing: ${what}`, { detail: "malformed_token" });
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
