import { suite, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { base64url } from "jose";
import { base64urlReaderOf } from "./native-base64url.js";

const seed = 20261202;
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** jose's bytes for one segment, or `undefined` where it refuses it. */
function joseBytes(segment: string): number[] | undefined {
  try {
    return [...base64url.decode(segment)];
  } catch {
    return undefined;
  }
}

/** A reader whose node:buffer counts the buffers it allocates and the bytes it is asked to write. */
function countingReader() {
  const calls = { writes: 0 };
  const { Buffer } = process.getBuiltinModule("node:buffer");
  const counted = {
    allocUnsafeSlow: (size: number) => {
      const bytes = Buffer.allocUnsafeSlow(size);
      const write = bytes.write.bind(bytes) as (text: string, offset: number, encoding: "base64url") => number;
      return Object.assign(bytes, {
        write: (text: string, offset: number, encoding: "base64url") => {
          calls.writes++;
          return write(text, offset, encoding);
        },
      });
    },
  };
  const scope = {
    process: {
      versions: { node: process.versions.node },
      getBuiltinModule: (id: string) => (id === "node:buffer" ? { Buffer: counted } : undefined),
    },
  };
  return { calls, read: base64urlReaderOf(scope) };
}

suite("base64urlReaderOf()", () => {
  test("reads jose's bytes, or nothing where jose refuses, for any text of base64, base64url, padding and whitespace", () => {
    const { calls, read } = countingReader();
    const native = base64urlReaderOf(globalThis);
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."AQZaz09-_"), maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(..."AQZaz09-_+/= \n\t.~é"), maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, (segment) => {
        assert.deepEqual(
          read(segment, (bytes) => [...bytes]),
          joseBytes(segment),
        );
        assert.deepEqual(
          native(segment, (bytes) => [...bytes]),
          joseBytes(segment),
        );
      }),
      { seed, numRuns: 3000 },
    );
    assert.ok(calls.writes > 1000, `Buffer decoded the base64url segments (${calls.writes})`);
  });

  test("random bytes round-trip, every length, with the last character's unused bits set or not", () => {
    const read = base64urlReaderOf(globalThis);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(63), (bytes, flip) => {
        const segment = base64url.encode(bytes);
        assert.deepEqual(
          read(segment, (b) => [...b]),
          [...bytes],
        );
        if (segment.length % 4 !== 0) {
          const other = segment.slice(0, -1) + alphabet[(alphabet.indexOf(segment.at(-1)!) ^ flip) & 63];
          assert.deepEqual(
            read(other, (b) => [...b]),
            joseBytes(other),
          );
        }
      }),
      { seed, numRuns: 1000 },
    );
  });

  test("the bytes are wiped once read returns or throws, and a segment read inside another gets its own", () => {
    const read = base64urlReaderOf(globalThis);
    let seen: Uint8Array | undefined;
    const inner = read("AQAB", (outer) => {
      seen = outer;
      return read("AgAC", (bytes) => {
        assert.notEqual(bytes.buffer, outer.buffer);
        return [...bytes, ...outer];
      });
    });
    assert.deepEqual(inner, [2, 0, 2, 1, 0, 1]);
    assert.deepEqual([...seen!], [0, 0, 0]);
    assert.throws(
      () =>
        read("_-_-", (bytes) => {
          seen = bytes;
          throw new Error("read failed");
        }),
      /read failed/,
    );
    assert.deepEqual([...seen!], [0, 0, 0]);
  });

  test("is jose's decoding where there is no Node", () => {
    for (const scope of [{}, undefined, { Deno: {}, process: { versions: { node: "22.0.0" } } }]) {
      const read = base64urlReaderOf(scope);
      assert.deepEqual(
        read("AQAB", (bytes) => [...bytes]),
        [1, 0, 1],
      );
      assert.equal(
        read("AQAB!", () => "read"),
        undefined,
      );
    }
  });
});
