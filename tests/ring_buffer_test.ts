import { deepEqual, equal, ok as assert, throws } from "node:assert/strict";
import { kDefaultCapacity, Ring } from "../src/_memory/ring_buffer.ts";
import {
  decodeValue,
  encodeValue,
  needsFreshBytes,
} from "../src/_memory/record_codec.ts";
import {
  kRecordBytes as kTagBytes,
  kRecordJson as kTagJson,
  kRecordString as kTagString,
  kRecordV8 as kTagV8,
  kRingCapacity as kCapacity,
} from "../src/_wire/layouts.ts";
import { Queue } from "../mod.ts";

function roundTrip(value: unknown): unknown {
  const { tag, bytes } = encodeValue(value, "item", "put item");
  return decodeValue(tag, needsFreshBytes(tag) ? bytes.slice() : bytes);
}

/** A class instance is not JSON: it keeps its class through the v8 route. */
export class Point {
  x = 1;
}

Deno.test("encodeValue() picks JSON only for values JSON keeps exactly", () => {
  const tagOf = (v: unknown) => encodeValue(v, "item", "put item").tag & 0xff;
  equal(tagOf({ a: [1, "x", true, null], b: { c: 2.5 } }), kTagJson);
  equal(tagOf("text"), kTagString);
  equal(tagOf(new Uint8Array(3)), kTagBytes);
  const shared = { x: 1 };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (
    const v of [
      undefined,
      -0,
      NaN,
      Infinity,
      10n,
      new Date(0),
      [1, , 3],
      [undefined],
      { u: undefined },
      [shared, shared],
      cyclic,
      new Point(),
      new Map(),
    ]
  ) {
    equal(tagOf(v), kTagV8, Deno.inspect(v));
  }
});

Deno.test("decodeValue() returns what structuredClone would for every kind", () => {
  const shared = { x: 1 };
  const cyclic: Record<string, unknown> = { n: 1 };
  cyclic.self = cyclic;
  const values: unknown[] = [
    null,
    true,
    0,
    -0,
    NaN,
    -Infinity,
    1.5,
    "",
    "héllo 🌍",
    "x".repeat(3_000_000),
    [],
    [1, , 3],
    [undefined, null],
    { a: { b: [1, { c: "d" }] }, e: undefined },
    new Map<unknown, unknown>([["k", 1n], [2, new Set([3])]]),
    new Set(["a", 1]),
    new Date(1234),
    /ab+c/gi,
    12345678901234567890n,
    new Uint8Array([1, 2, 3]),
    new Uint8ClampedArray([255]),
    new Int16Array([-2, 3]),
    new Float64Array([0.5, -1]),
    new BigInt64Array([-5n]),
    new ArrayBuffer(4),
    [shared, shared],
    { when: new Date(0), data: new Float32Array([1.5]) },
  ];
  for (const v of values) {
    deepEqual(roundTrip(v), structuredClone(v), Deno.inspect(v).slice(0, 80));
  }
  const back = roundTrip(cyclic) as Record<string, unknown>;
  equal(back.self, back);
  const pair = roundTrip([shared, shared]) as unknown[];
  equal(pair[0], pair[1]);
  const error = roundTrip(new RangeError("boom")) as Error;
  assert(error instanceof RangeError);
  equal(error.message, "boom");
});

Deno.test("encodeValue() throws a TypeError naming the path of what cannot travel", () => {
  const cases: [unknown, RegExp][] = [
    [() => 1, /'item' .*a function/],
    [{ a: [1, Symbol("s")] }, /'item\.a\[1\]' .*a symbol/],
    [new SharedArrayBuffer(4), /'item' .*SharedArrayBuffer/],
    [{ v: new Int32Array(new SharedArrayBuffer(4)) }, /'item\.v' .*Int32Array/],
    [new Map([["k", new WeakMap()]]), /'item\.get\(k\)' .*WeakMap/],
    [[Promise.resolve()], /'item\[0\]' .*Promise/],
    [{ q: new Queue() }, /'item\.q' .*shared Queue/],
  ];
  for (const [value, message] of cases) {
    throws(() => encodeValue(value, "item", "put item"), (e: Error) => {
      assert(e instanceof TypeError, e.message);
      assert(message.test(e.message), e.message);
      assert(e.message.startsWith("Cannot put item as "), e.message);
      return true;
    });
  }
});

Deno.test("Ring.pop() returns records whole and in order across wrap-around", () => {
  const ring = Ring.create(64);
  const enc = new TextEncoder();
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 200; round++) {
    for (let k = 0; k < 2; k++) {
      const text = `m${next++}-${"y".repeat(round % 13)}`;
      equal(ring.push(kTagString, enc.encode(text), 0), "ok");
    }
    for (let k = 0; k < 2; k++) {
      const r = ring.pop(false)!;
      equal(
        decodeValue(r.tag, r.bytes),
        `m${expected++}-${"y".repeat(round % 13)}`,
      );
    }
  }
  equal(ring.pop(false), undefined);
  equal(ring.control[kCapacity], 64);
});

Deno.test("Ring.push() grows the area for a large record and keeps older ones", () => {
  const ring = Ring.create(64);
  const enc = new TextEncoder();
  // Leave the used bytes wrapped around the end before growing.
  for (let i = 0; i < 3; i++) ring.push(kTagString, enc.encode("abcdefgh"), 0);
  ring.pop(false);
  ring.pop(false);
  for (let i = 0; i < 2; i++) ring.push(kTagString, enc.encode("ijklmnop"), 0);
  const big = new Uint8Array(1_000_000).map((_, i) => i % 251);
  equal(ring.push(kTagBytes, big, 0), "ok");
  assert(ring.control[kCapacity] >= 1_000_000);
  equal(ring.count, 4);
  const texts = [0, 1, 2].map(() => {
    const r = ring.pop(false)!;
    return decodeValue(r.tag, r.bytes);
  });
  deepEqual(texts, ["abcdefgh", "ijklmnop", "ijklmnop"]);
  deepEqual(ring.pop(true)!.bytes, big);
});

Deno.test("Ring.push() refuses past maxCount and counts an empty record", () => {
  const ring = Ring.create(kDefaultCapacity);
  equal(ring.push(kTagBytes, new Uint8Array(0), 2), "ok");
  equal(ring.push(kTagBytes, new Uint8Array(0), 2), "ok");
  equal(ring.push(kTagBytes, new Uint8Array(0), 2), "full");
  equal(ring.count, 2);
  equal(ring.pop(true)!.bytes.length, 0);
});

Deno.test("Ring.pop() leaves a record longer than maxLength in place", () => {
  const ring = Ring.create(64);
  ring.push(kTagBytes, new Uint8Array(10), 0);
  equal(ring.pop(true, 5)!.kept, 10);
  equal(ring.count, 1);
  equal(ring.pop(true, 10)!.bytes.length, 10);
});

Deno.test("Ring and a revived Ring share one queue of records", () => {
  const a = Ring.create(64);
  const b = new Ring(a.control.buffer as SharedArrayBuffer, a.data);
  a.push(kTagJson, new TextEncoder().encode("[1]"), 0);
  const r = b.pop(false)!;
  deepEqual(decodeValue(r.tag, r.bytes), [1]);
  equal(a.count, 0);
});
