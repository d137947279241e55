/**
 * JSON for `--json` output: indented, and every field present, with `null` for an absent value
 * (rather than the field left out), so that the documented shape is the printed shape.
 *
 * ```ts
 * io.stdout.write(stableJson({ a: undefined })); // {\n  "a": null\n}\n
 * ```
 */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v), 2)}\n`;
}
