import { readFileSync } from "node:fs";

/**
 * The version of `@connectauth/cli`, read from its own package.json when called (one directory above
 * both `src/` and `dist/`), so that it is the version npm installed, never a string copied into the code.
 *
 * ```ts
 * cliVersion(); // "0.1.0"
 * ```
 */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  if (typeof manifest.version !== "string") throw new Error("the package.json of @connectauth/cli has no version");
  return manifest.version;
}
