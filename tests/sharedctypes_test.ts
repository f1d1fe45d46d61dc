import { deepEqual, equal, ok as assert, throws } from "node:assert/strict";
import {
  Lock,
  ProcessError,
  RawArray,
  RawValue,
  RLock,
  SharedArray,
  type TypeCode,
  Value,
} from "../mod.ts";
import { fixture, runAll } from "./_run.ts";
import { forEachStartMethod } from "./_start_methods.ts";

const T = (name: string) => fixture("sync_targets", name);

const zeros: Record<TypeCode, unknown> = {
  c: "\0",
  b: 0,
  B: 0,
  h: 0,
  H: 0,
  i: 0,
  I: 0,
  l: 0n,
  L: 0n,
  q: 0n,
  Q: 0n,
  f: 0,
  d: 0,
};

Deno.test("Value() starts at zero for every typecode", () => {
  for (const [code, zero] of Object.entries(zeros)) {
    const value = new Value(code as TypeCode);
    equal(value.value, zero, code);
    equal(value.typecode, code);
    deepEqual(new SharedArray(code as TypeCode, 2).slice(), [zero, zero], code);
  }
});

Deno.test("Value.value wraps integers around as C does", () => {
  const cases: [TypeCode, number | bigint, number | bigint][] = [
    ["b", 200, -56],
    ["b", -129, 127],
    ["B", -1, 255],
    ["B", 256, 0],
    ["h", 40_000, -25_536],
    ["H", -1, 65_535],
    ["i", 2 ** 31, -(2 ** 31)],
    ["i", 2n ** 32n + 5n, 5],
    ["I", -1, 4_294_967_295],
    ["l", 2n ** 63n, -(2n ** 63n)],
    ["L", -1n, 2n ** 64n - 1n],
    ["q", 2n ** 64n + 7n, 7n],
    ["q", -5, -5n],
    ["Q", -1, 2n ** 64n - 1n],
  ];
  for (const [code, input, expected] of cases) {
    const value = new Value(code, input as never);
    equal(value.value, expected, `${code} ${input}`);
    value.value = 0 as never;
    value.value = input as never;
    equal(value.value, expected, `${code} ${input} (set)`);
  }
  equal(new Value("f", 0.1).value, Math.fround(0.1));
  equal(new Value("d", 0.1).value, 0.1);
  assert(Number.isNaN(new Value("d", NaN).value));
  equal(new Value("c", "a").value, "a");
  equal(new Value("c", 65).value, "A");
});

Deno.test("Value() rejects values of the wrong type with TypeError", () => {
  throws(
    () => new Value("i", 1.5),
    /'initial' must be an integer for typecode 'i'/,
  );
  throws(() => new Value("q", 0.5), TypeError);
  throws(() => new Value("i", "1" as never), TypeError);
  throws(() => new Value("d", "1" as never), /must be a number/);
  throws(() => new Value("c", "ab"), TypeError);
  throws(() => new Value("c", "€"), TypeError);
  throws(() => new Value("c", 256), RangeError);
  throws(() => new Value("x" as TypeCode), /'typecode' must be one of/);
  const value = new Value("i");
  throws(() => {
    value.value = Infinity;
  }, TypeError);
  equal(value.value, 0);
});

Deno.test("Value.getLock() returns the lock chosen by the lock option", () => {
  assert(new Value("i").getLock() instanceof RLock);
  assert(new Value("i", 0, { lock: true }).getLock() instanceof RLock);
  const lock = new Lock();
  equal(new Value("i", 0, { lock }).getLock(), lock);
  const rlock = new RLock();
  equal(new SharedArray("i", 1, { lock: rlock }).getLock(), rlock);
  throws(() => new Value("i", 0, { lock: false }).getLock(), /lock: false/);
  throws(() => new Value("i", 0, { lock: "yes" as never }), TypeError);
  throws(() => new Value("i", 0, null as never), TypeError);
});

Deno.test("Value.value refuses to deadlock on a Lock this process holds", async () => {
  const lock = new Lock();
  const value = new Value("i", 1, { lock });
  await lock.acquire();
  throws(() => value.value, ProcessError);
  lock.release();
  equal(value.value, 1);
  const counter = new Value("i", 1); // an RLock re-enters instead
  {
    using _ = await counter.getLock().hold();
    counter.value += 1;
  }
  equal(counter.value, 2);
});

Deno.test("RawValue() and RawArray() have no lock", () => {
  const raw = RawValue("h", 3);
  equal(raw.value, 3);
  assert(
    !("getLock" in raw) || (() => {
      try {
        (raw as Value<"h">).getLock();
        return false;
      } catch (error) {
        return error instanceof TypeError;
      }
    })(),
  );
  const arr = RawArray("B", [1, 2]);
  deepEqual([...arr], [1, 2]);
  throws(() => (arr as SharedArray<"B">).getLock(), TypeError);
});

Deno.test("SharedArray() takes a length or the items", () => {
  deepEqual(new SharedArray("i", 3).slice(), [0, 0, 0]);
  deepEqual(new SharedArray("d", [1.5, 2.5]).slice(), [1.5, 2.5]);
  deepEqual(new SharedArray("q", [1, 2n]).slice(), [1n, 2n]);
  deepEqual(new SharedArray("c", "hi").slice(), ["h", "i"]);
  deepEqual(new SharedArray("b", new Set([1, 300])).slice(), [1, 44]);
  equal(new SharedArray("i", 0).length, 0);
  throws(() => new SharedArray("i", -1), RangeError);
  throws(() => new SharedArray("i", 1.5), RangeError);
  throws(() => new SharedArray("i", true as never), TypeError);
  throws(() => new SharedArray("i", [1, "x"] as never), /'sizeOrInit\[1\]'/);
});

Deno.test("SharedArray.get() and set() take Python indices and check bounds", () => {
  const arr = new SharedArray("i", [1, 2, 3]);
  equal(arr.get(0), 1);
  equal(arr.get(-1), 3);
  arr.set(-3, 10);
  equal(arr.get(0), 10);
  throws(() => arr.get(3), /'index' must be in \[-3, 3\): current value is 3/);
  throws(() => arr.get(-4), RangeError);
  throws(() => arr.set(1.5, 0), TypeError);
  throws(() => arr.set(0, 0.5), TypeError);
  equal(arr.length, 3);
});

Deno.test("SharedArray.slice() and setSlice() copy ranges like Python slices", () => {
  const arr = new SharedArray("i", [0, 1, 2, 3, 4]);
  deepEqual(arr.slice(1, 3), [1, 2]);
  deepEqual(arr.slice(-2), [3, 4]);
  deepEqual(arr.slice(3, 1), []);
  deepEqual(arr.slice(0, 99), [0, 1, 2, 3, 4]);
  arr.setSlice(3, [30, 40]);
  arr.setSlice(-5, [5]);
  deepEqual([...arr], [5, 1, 2, 30, 40]);
  throws(() => arr.setSlice(4, [1, 2]), RangeError);
  arr.setSlice(5, []);
  deepEqual(Array.from(arr.array), [5, 1, 2, 30, 40]);
});

forEachStartMethod(
  "Value crosses into a child as the same memory",
  async (P) => {
    const value = new Value("q", 0n);
    deepEqual(await runAll("setValue", [[value, 2n ** 62n]], 120, P), [0]);
    equal(value.value, 2n ** 62n);
  },
);

forEachStartMethod(
  "SharedArray crosses into a child with its lock",
  async (P) => {
    const arr = new SharedArray("d", [0.5, 1, 2]);
    deepEqual(await runAll("doubleItems", [[arr]], 120, P), [0]);
    deepEqual(arr.slice(), [1, 2, 4]);
    equal(arr.getLock().locked(), false);
  },
);

// Spawn only: 800 000 locked increments are 3 200 000 round trips to a
// "subprocess" child's parent (the async test below runs on both).
Deno.test("Value stays exact after 8 processes × 100 000 locked increments", async () => {
  const counter = new Value("i", 0);
  const codes = await runAll(
    "incrementValue",
    Array.from({ length: 8 }, () => [counter, 100_000]),
  );
  deepEqual(codes, Array(8).fill(0));
  equal(counter.value, 800_000);
});

forEachStartMethod(
  "Value stays exact with async holds in children and the parent",
  async (P) => {
    const counter = new Value("i", 0);
    const ps = [0, 1].map(() =>
      new P({ target: T("incrementValueAsync"), args: [counter, 2_000] })
    );
    try {
      for (const p of ps) p.start();
      const lock = counter.getLock();
      for (let i = 0; i < 2_000; i++) {
        using _ = await lock.hold();
        counter.value += 1;
      }
      for (const p of ps) equal(await p.join(60), 0);
      equal(counter.value, 6_000);
    } finally {
      for (const p of ps) if (p.isAlive()) p.terminate();
    }
  },
);

Deno.test("each shared class's reviver is recorded under the module that defines it", async () => {
  // A child imports reviverModule(tag) before it rebuilds an object of that
  // tag: a module that does not register it would leave the tag unknown.
  await import("../mod.ts");
  const { reviverModule } = await import("../src/reduction.ts");
  const expected: Record<string, string> = {
    Lock: "synchronize/lock.ts",
    RLock: "synchronize/rlock.ts",
    Semaphore: "synchronize/semaphore.ts",
    Event: "synchronize/event.ts",
    Condition: "synchronize/condition.ts",
    Barrier: "synchronize/barrier.ts",
    Queue: "queues/queue.ts",
    Value: "sharedctypes/value.ts",
    SharedArray: "sharedctypes/shared_array.ts",
    SharedMemory: "shared_memory/shared_memory.ts",
    Connection: "connection/pipe.ts",
  };
  for (const [tag, file] of Object.entries(expected)) {
    const module = reviverModule(tag);
    assert(module?.endsWith(`/src/${file}`), `${tag}: ${module}`);
  }
});
