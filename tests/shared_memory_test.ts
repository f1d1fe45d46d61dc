import { deepEqual, equal, match, notEqual, throws } from "node:assert/strict";
import { Event, Process, ProcessError, SharedMemory } from "../mod.ts";
import { cells, fixture } from "./_run.ts";

const T = (name: string) => fixture("sync_targets", name);

let counter = 0;
function uniqueName(): string {
  return `test_${Deno.pid}_${++counter}_${crypto.randomUUID().slice(0, 8)}`;
}

Deno.test("SharedMemory() creates a zeroed block that attaching by name shares", () => {
  const name = uniqueName();
  using shm = new SharedMemory({ name, create: true, size: 100 });
  equal(shm.name, name);
  equal(shm.size, 100);
  equal(shm.buf.length, 100);
  deepEqual(Array.from(shm.buf.slice(0, 4)), [0, 0, 0, 0]);
  shm.buf[99] = 7;
  using other = new SharedMemory({ name });
  equal(other.size, 100);
  equal(other.buf[99], 7);
  other.buf[0] = 9;
  equal(shm.buf[0], 9);
  shm.unlink();
});

Deno.test("SharedMemory() chooses a unique psm_ name when none is given", () => {
  using a = new SharedMemory({ create: true, size: 1 });
  using b = new SharedMemory({ create: true, size: 1 });
  match(a.name, /^psm_[0-9a-f]{8}$/);
  notEqual(a.name, b.name);
  a.unlink();
  b.unlink();
});

Deno.test("SharedMemory() gives zeroed memory when a freed block is reused", () => {
  // Unusual sizes, so that best fit picks exactly the freed blocks.
  const [low, middle, top] = [4_999, 5_003, 5_011].map((size) =>
    new SharedMemory({ create: true, size })
  );
  using above = new SharedMemory({ create: true, size: 64 });
  for (const block of [middle, top]) {
    block.buf.fill(0xff);
    block.unlink();
    block.close();
  }
  // The two freed blocks merged into one on the free list (a block stays
  // above them), which best fit gives back zeroed; the next block comes
  // from the arena's free space.
  using again = new SharedMemory({ create: true, size: 5_011 });
  using reused = new SharedMemory({ create: true, size: 5_003 });
  equal(again.buf.every((b) => b === 0), true);
  equal(reused.buf.every((b) => b === 0), true);
  for (const block of [low, again, reused, above]) block.unlink();
  low.close();
});

Deno.test("SharedMemory() blocks replaced by larger ones reuse the freed space", () => {
  // Double buffering with a growing size: two blocks alive at a time. Each
  // new block is larger than any freed one, so only merged freed blocks
  // can hold it; unmerged, the arena grew by every block and each freed
  // block kept its entry, until all 1 024 were "in use".
  let previous: SharedMemory | undefined;
  let start = 0;
  for (let i = 0; i < 1_200; i++) {
    const current = new SharedMemory({ create: true, size: 4_096 + i * 64 });
    if (i === 0) start = current.buf.buffer.byteLength;
    current.buf.fill(1);
    previous?.close();
    previous?.unlink();
    previous = current;
  }
  const arena = previous!.buf.buffer.byteLength;
  previous!.close();
  previous!.unlink();
  // Without the merge: ~50 MB more. With it: a few blocks' worth.
  equal(
    arena - start < 1 << 20,
    true,
    `the arena grew by ${arena - start} bytes`,
  );
});

Deno.test("SharedMemory() rejects bad sizes and names", () => {
  throws(
    () => new SharedMemory({ create: true, size: 0 }),
    /'size' must be a positive integer: current value is 0/,
  );
  throws(() => new SharedMemory({ create: true, size: -1 }), RangeError);
  throws(() => new SharedMemory({ create: true, size: 1.5 }), RangeError);
  throws(() => new SharedMemory({ create: true }), TypeError);
  throws(
    () => new SharedMemory({ create: true, size: "8" as never }),
    TypeError,
  );
  throws(() => new SharedMemory({ create: true, size: 2 ** 52 }), RangeError);
  throws(
    () => new SharedMemory({ create: true, size: 8, name: "" }),
    RangeError,
  );
  throws(
    () => new SharedMemory({ create: true, size: 8, name: "x".repeat(129) }),
    RangeError,
  );
  throws(
    () => new SharedMemory({ create: true, size: 8, name: 5 as never }),
    TypeError,
  );
  throws(() => new SharedMemory({}), /'name' must be given/);
  throws(() => new SharedMemory(undefined as never), TypeError);
  throws(
    () => new SharedMemory({ name: "x", create: "yes" as never }),
    TypeError,
  );
});

Deno.test("SharedMemory() throws AlreadyExists for a duplicate and NotFound for an unknown name", () => {
  const name = uniqueName();
  using shm = new SharedMemory({ name, create: true, size: 8 });
  throws(
    () => new SharedMemory({ name, create: true, size: 8 }),
    Deno.errors.AlreadyExists,
  );
  throws(() => new SharedMemory({ name: uniqueName() }), Deno.errors.NotFound);
  shm.unlink();
  throws(() => new SharedMemory({ name }), Deno.errors.NotFound);
  throws(() => shm.unlink(), Deno.errors.NotFound);
  equal(shm.buf.length, 8); // still attached until closed
});

Deno.test("SharedMemory.close() detaches this object only", () => {
  const name = uniqueName();
  const shm = new SharedMemory({ name, create: true, size: 8 });
  const other = new SharedMemory({ name });
  shm.close();
  shm.close();
  throws(() => shm.buf, ProcessError);
  other.buf[0] = 1;
  equal(new SharedMemory({ name }).buf[0], 1);
  shm.unlink(); // unlinking after close is allowed, as in CPython
  other.close();
});

Deno.test("SharedMemory can be attached by name in a child started before it existed", async () => {
  const name = uniqueName();
  const created = new Event();
  const out = cells(2);
  const p = new Process({
    target: T("attachByName"),
    args: [name, created, 42, out],
  });
  p.start();
  try {
    using shm = new SharedMemory({ name, create: true, size: 4096 });
    shm.buf[1] = 5;
    created.set();
    equal(await p.join(60), 0);
    deepEqual([out[0], out[1]], [4096, 5]);
    equal(shm.buf[0], 42);
    shm.unlink();
  } finally {
    if (p.isAlive()) p.terminate();
  }
});

Deno.test("SharedMemory crosses into a child through args as the same memory", async () => {
  using shm = new SharedMemory({ create: true, size: 3840 * 2160 * 4 });
  const p = new Process({ target: T("writeShared"), args: [shm, 77] });
  p.start();
  try {
    equal(await p.join(60), 0);
    equal(shm.buf[shm.size - 1], 77);
  } finally {
    if (p.isAlive()) p.terminate();
    shm.unlink();
  }
});

Deno.test("SharedMemory cannot be sent once closed", () => {
  const shm = new SharedMemory({ create: true, size: 8 });
  shm.unlink();
  shm.close();
  const p = new Process({ target: T("writeShared"), args: [shm, 1] });
  throws(() => p.start(), /is closed/);
});

Deno.test("SharedMemory.view() writes through a typed view touch only this block's bytes", () => {
  using before = new SharedMemory({ create: true, size: 24 });
  using shm = new SharedMemory({ create: true, size: 20 });
  using after = new SharedMemory({ create: true, size: 24 });
  before.buf.fill(0xab);
  after.buf.fill(0xcd);
  const doubles = shm.view(Float64Array);
  equal(doubles.length, 2);
  doubles.fill(-1);
  shm.view(Int32Array, { byteOffset: 16 })[0] = -1;
  const minusOnes = new Uint8Array(new Float64Array([-1, -1]).buffer);
  deepEqual(Array.from(shm.buf), [...minusOnes, 0xff, 0xff, 0xff, 0xff]);
  deepEqual(Array.from(before.buf), new Array(24).fill(0xab));
  deepEqual(Array.from(after.buf), new Array(24).fill(0xcd));
  // Shared: another attachment sees the same doubles.
  using other = new SharedMemory({ name: shm.name });
  deepEqual(Array.from(other.view(Float64Array)), [-1, -1]);
  equal(shm.view(Uint16Array, { byteOffset: 2, length: 3 }).length, 3);
  throws(() => shm.view(Float64Array, { byteOffset: 4 }), RangeError);
  throws(() => shm.view(Float64Array, { length: 3 }), RangeError);
  for (const m of [before, shm, after]) m.unlink();
  shm.close();
  throws(() => shm.view(Uint8Array), ProcessError);
});
