// The three ways a user installs createServerAuth in a Connect router, as the router options each one
// writes: the gate alone, the interceptor alone (connect < 2.2), or auth.install (both).
//
//   connectNodeAdapter({ routes, ...installed(auth, "gate") });
import type { Interceptor } from "@connectrpc/connect";
import type { ServerAuth } from "@connectauth/server";

export const installModes = ["gate", "interceptor", "install"] as const;
export type InstallMode = (typeof installModes)[number];

/** The router options of one install mode, exactly what a user writes (nothing more). */
export interface InstalledOptions {
  readonly requestGate?: ServerAuth["requestGate"];
  readonly interceptors?: Interceptor[];
}

/**
 * `gate`: `{ requestGate: auth.requestGate }`; `interceptor`: `{ interceptors: [auth.interceptor] }`;
 * `install`: what `auth.install({})` adds to router options.
 */
export function installed(auth: ServerAuth, mode: InstallMode): InstalledOptions {
  switch (mode) {
    case "gate":
      return { requestGate: auth.requestGate };
    case "interceptor":
      return { interceptors: [auth.interceptor] };
    case "install":
      return auth.install({});
  }
}
