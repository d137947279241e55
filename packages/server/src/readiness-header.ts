// The `connectauth-readiness` header of a health Check: why the server is (not) ready, in fixed words,
// written by the health service (health-service.ts) and read by `connectauth doctor`.

/**
 * The response header of a health Check that tells why the server is (not) ready, for
 * `connectauth doctor`: one item per authenticator with a status (`auth:<name>=<word>`) and per check
 * of yours (`check:<name>=ok|failed`), joined by `", "`. An authenticator's word is `ready`, the fixed
 * word of its last error (`network`, `timeout`, `http_status`, `invalid_jwks`, `no_keys`, `discovery`,
 * `revocation_<word>`, …), or `not_fetched` (not ready, no error yet). A name that is not
 * `[A-Za-z0-9._-]` (up to 64) is sent as `_`.
 *
 * ```ts
 * const res = await client.check({}, { onHeader: (h) => console.log(h.get(readinessHeader)) });
 * // "auth:jwt=network"
 * ```
 */
export const readinessHeader = "connectauth-readiness";

/** One item of the {@link readinessHeader} header. */
export interface ReadinessItem {
  /** `auth`: an authenticator's readiness; `check`: one of your checks. */
  readonly kind: "auth" | "check";
  readonly name: string;
  /** `ready`, `not_fetched` or an error word (auth); `ok` or `failed` (check). */
  readonly word: string;
}

const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const fixedWord = /^[a-z][a-z0-9_]{0,31}$/;
const item = /^(auth|check):(_|[A-Za-z0-9][A-Za-z0-9._-]{0,63})=([a-z][a-z0-9_]{0,31})$/;

/**
 * Reads the {@link readinessHeader} header: its items, in order; an item that does not fit the grammar
 * is dropped. `[]` for `null` or an empty header.
 *
 * ```ts
 * parseReadinessHeader("auth:jwt=network, check:db=ok"); // [{ kind: "auth", name: "jwt", word: "network" }, …]
 * ```
 *
 * Not checked: that the server which sent it is a connectauth server (any header is read as one).
 */
export function parseReadinessHeader(value: string | null | undefined): ReadinessItem[] {
  if (value === null || value === undefined) return [];
  return value.split(",").flatMap((part) => {
    const m = item.exec(part.trim());
    return m === null ? [] : [{ kind: m[1] as ReadinessItem["kind"], name: m[2] as string, word: m[3] as string }];
  });
}

/**
 * @internal The value of the {@link readinessHeader} header: each authenticator's word, then each
 * check's; `""` when there is neither.
 *
 * ```ts
 * formatReadinessHeader({ jwt: { ready: false, lastError: "network" } }, [["db", true]]); // "auth:jwt=network, check:db=ok"
 * ```
 *
 * Not checked: anything but `ready` and `lastError` (ages and instants are left out); a `lastError`
 * that is not a fixed word is sent as `unknown`.
 */
export function formatReadinessHeader(
  authenticators: Readonly<Record<string, { readonly ready?: boolean; readonly lastError?: string }>>,
  checks: readonly (readonly [string, boolean])[],
): string {
  const name = (n: string) => (safeName.test(n) ? n : "_");
  const authWord = (s: { readonly ready?: boolean; readonly lastError?: string }) =>
    s.ready === true
      ? "ready"
      : s.lastError === undefined
        ? "not_fetched"
        : fixedWord.test(s.lastError)
          ? s.lastError
          : "unknown";
  return [
    ...Object.entries(authenticators).map(([n, s]) => `auth:${name(n)}=${authWord(s ?? {})}`),
    ...checks.map(([n, ok]) => `check:${name(n)}=${ok ? "ok" : "failed"}`),
  ].join(", ");
}
