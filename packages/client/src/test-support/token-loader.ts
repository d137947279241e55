// A fake clock and a fake token endpoint for the caching token source's suites.

/** A clock that moves only when told to. */
export function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/**
 * A load that counts its calls and answers `tok-N` valid `ttl` seconds, after `hold()`'s gate is
 * released; while `fail` is set it throws an error whose message quotes a secret (`tok-secret`) and whose
 * `code` is `ECONNREFUSED`, so that a suite can check that neither leaks.
 */
export function loader(ttl = 300) {
  let n = 0;
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const l = {
    fail: false,
    get count() {
      return n;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
    load: async () => {
      n++;
      await gate;
      if (l.fail) throw Object.assign(new Error("issuer down: body quotes tok-secret"), { code: "ECONNREFUSED" });
      return { token: `tok-${n}`, expiresIn: ttl };
    },
  };
  return l;
}
