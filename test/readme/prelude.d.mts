// The free names of the READMEs' ```ts examples: what a snippet uses without defining it, as a reader
// would have it in their own app. test/readme/examples.test.ts compiles every snippet as a module of its
// own next to this file (so `./gen/…` resolves to test/readme/gen, generated from proto/shop and
// proto/example); a snippet's own imports and declarations shadow these. They are globals of that
// program only: this is a .d.mts (a module, with `declare global`), which tsconfig.test.json's
// test/**/*.ts does not pick up, so no test file sees them.
//
// Keep it small: declare a name here when a snippet is deliberately partial about it, never to make a
// wrong snippet compile.

export {};

declare global {
  // The schemas the examples secure.
  const GreeterService: typeof import("./gen/example/v1/greeter_pb.js").GreeterService;
  const ShopService: typeof import("./gen/shop/v1/shop_pb.js").ShopService;

  // Server side: the app's routes, an authenticator and the server auth built from it.
  const routes: (router: import("@connectrpc/connect").ConnectRouter) => void;
  const jwt: import("@connectauth/server").Authenticator;
  const auth: import("@connectauth/server").ServerAuth;
  const createJwtAuthenticator: typeof import("@connectauth/server").createJwtAuthenticator;

  // Client side: a client of the app's service, the app's own session and UI.
  const shop: import("@connectrpc/connect").Client<typeof ShopService>;
  const session: { accessToken(): Promise<string> };
  function fetchToken(): Promise<string>;
  function signIn(): void;
  function askFor(scopes: readonly string[]): void;
  function retryLater(cause?: string): void;
  /** An error the app caught. */
  const e: unknown;

  // The app's environment and logger.
  const env: Record<string, string>;
  const log: { info(value: unknown): void; warn(value: unknown): void };
}
