import {
  deepEqual,
  equal,
  match,
  ok as assert,
  rejects,
  throws,
} from "node:assert/strict";
import {
  Pipe,
  Pool,
  type PoolOptions,
  Process,
  ProcessPoolExecutor,
  Queue,
} from "../mod.ts";
import { reduce, revive } from "../src/reduction.ts";
import { transportCounters } from "../src/_engine/engine.ts";
import {
  decodeRecord,
  decodeValue,
  encodeValue,
  received,
} from "../src/_memory/record_codec.ts";
import { serialize } from "node:v8";
import { getContext } from "../mod.ts";
import { fixture, runDeno } from "./_run.ts";
import { kRecordV8 } from "../src/_wire/layouts.ts";
import { rebuildError, toWireError } from "../src/_wire/error_codec.ts";
import { AppError, Celsius, Point } from "./fixtures/value_targets.ts";
import { Box } from "./fixtures/value_box.ts";
import {
  Commented,
  ConstClass,
  PublicAlias,
  Registry,
  Stack,
  Tags,
  ViaArrow,
} from "./fixtures/value_exports.ts";

// Targets by URL: a function imported from another module is not a target
// by itself yet (the calling module would have to re-export it).
const T = (name: string) => fixture("value_targets", name);
const [doublePoint, inspectPoint, makeCelsius, makePoint, putPoint] = [
  T("doublePoint"),
  T("inspectPoint"),
  T("makeCelsius"),
  T("makePoint"),
  T("putPoint"),
];
const [readCelsius, reportArgs, returnError, throwApp, throwNotFound] = [
  T("readCelsius"),
  T("reportArgs"),
  T("returnError"),
  T("throwApp"),
  T("throwNotFound"),
];
const throwTyped = T("throwTyped");

/** Exported here: the calling module itself is where it is found. */
export class Local {
  constructor(public label: string) {}
}

const roundTrip = (value: unknown) => revive(structuredClone(reduce(value)));

Deno.test("a class exported from the calling module keeps its prototype through reduce/revive", () => {
  const back = roundTrip({ items: [new Local("a")] }) as { items: Local[] };
  assert(back.items[0] instanceof Local);
  equal(back.items[0].label, "a");
});

Deno.test("an imported exported class keeps its prototype and fields, also in a Map and a Set", () => {
  const back = roundTrip(new Map([["p", new Set([new Point(1, 2)])]])) as Map<
    string,
    Set<Point>
  >;
  const [p] = [...back.get("p")!];
  assert(p instanceof Point);
  equal(p.norm2(), 5);
});

Deno.test("an object met twice arrives as one object, and a cycle stays a cycle, as pickle's memo keeps them", () => {
  const p = new Point(1, 2);
  const [a, b] = roundTrip([p, p]) as Point[];
  assert(a instanceof Point);
  equal(a, b);
  // A cycle through a class instance, and through a plain object that holds one.
  const node = new Point(3, 4) as Point & { next?: unknown };
  node.next = node;
  const back = roundTrip(node) as typeof node;
  assert(back instanceof Point);
  equal(back.next, back);
  const holder: Record<string, unknown> = { p };
  holder.self = holder;
  holder.again = holder;
  const got = roundTrip({ holder, p }) as {
    holder: Record<string, unknown>;
    p: Point;
  };
  equal(got.holder.self, got.holder);
  equal(got.holder.again, got.holder);
  equal(got.holder.p, got.p);
  assert(got.p instanceof Point);
  // Deep as well: a class instance 300 levels down is found and kept.
  let deep: unknown = new Point(5, 6);
  for (let i = 0; i < 300; i++) deep = { x: deep };
  let end = roundTrip(deep) as { x: unknown };
  for (let i = 0; i < 300; i++) end = end.x as { x: unknown };
  assert(end instanceof Point);
});

Deno.test("a cycle through an error, which is rebuilt from its parts, is a TypeError naming the path", () => {
  const error = new AppError("loop", 1) as AppError & { self?: unknown };
  error.self = error;
  throws(
    () => reduce({ error }, "args", "apply"),
    /Cannot apply as 'args\.error\.self' must not lead back to itself/,
  );
  // A plain cycle beside a reduced value is kept.
  const holder = { c: new Celsius(1), list: [] as unknown[] };
  holder.list.push(holder);
  const back = roundTrip(holder) as typeof holder;
  equal(back.list[0], back);
  equal(back.c.degrees, 1);
});

Deno.test("a class is found under the name its module exports it by, and never in a comment", () => {
  const refOf = (value: object) =>
    (reduce(value) as { ref: { url: string; name: string } }).ref;
  const fixtures = new URL("./fixtures/value_exports.ts", import.meta.url);
  // `export { Aliased as PublicAlias }`, imported as PublicAlias.
  const alias = refOf(new PublicAlias());
  equal(alias.url, fixtures.href);
  equal(alias.name, "PublicAlias");
  equal(refOf(new ConstClass()).name, "ConstClass");
  // A comment here says: export class Commented {} — it declares nothing.
  equal(refOf(new Commented()).url, fixtures.href);
  // A reduction whose callable is an exported arrow function.
  const back = roundTrip(new ViaArrow(3)) as ViaArrow;
  assert(back instanceof ViaArrow);
  equal(back.n, 3);
});

Deno.test("an exported subclass of Array, Map or Set arrives as itself, with its items and fields", () => {
  const stack = Stack.from([1, new Point(1, 2)]) as Stack<unknown>;
  const registry = new Registry([["p", stack]]);
  const tags = new Set([new Tags(["a", "b"])]);
  const back = roundTrip({ stack, registry, tags }) as {
    stack: Stack<unknown>;
    registry: Registry;
    tags: Set<Tags>;
  };
  assert(back.stack instanceof Stack && Array.isArray(back.stack));
  equal(back.stack.length, 2);
  equal(back.stack.label, "stack");
  assert(back.stack.top() instanceof Point);
  assert(back.registry instanceof Registry);
  equal(back.registry.tag, "registry");
  // The same stack, met twice, is one object on arrival.
  equal(back.registry.get("p"), back.stack);
  const [inner] = [...back.tags];
  assert(inner instanceof Tags);
  deepEqual([...inner], ["a", "b"]);
});

Deno.test("a plain object with its own '__dmp_shared__' key is data, on every path, whatever it holds", async () => {
  // The library's own tag names too: a reviver's ("Value", "Lock"), a form's.
  const values = ["mine", "Value", "Lock", "@dmp/plain", "@dmp/class"].map((
    tag,
  ) => ({ __dmp_shared__: tag, when: new Date(0), n: 1, data: 3 }));
  const [mine] = values;
  const back = roundTrip({ mine, again: mine }) as Record<string, unknown>;
  deepEqual(back.mine, mine);
  equal(back.again, back.mine);
  // One container met twice: rebuilt in place, it holds the data itself
  // the second time.
  const holder = { p: values[2] };
  const twice = roundTrip({ a: holder, b: holder }) as Record<
    string,
    typeof holder
  >;
  deepEqual(twice.a.p, values[2]);
  equal(twice.b, twice.a);
  for (const value of values) {
    deepEqual(roundTrip([value]), [value]);
    const { tag, bytes } = encodeValue(value, "item", "put item");
    deepEqual(decodeValue(tag, bytes.slice()), value);
  }
  for (const method of ["spawn", "subprocess"] as const) {
    await using pool = new (getContext(method).Pool)(1);
    const echo = fixture("pool_targets", "echo");
    deepEqual(await pool.apply(echo, [values]), values, method);
    deepEqual(await pool.apply(echo, [{ a: holder, b: holder }]), {
      a: holder,
      b: holder,
    });
    deepEqual(await pool.apply(echo, [[{ __dmp_shared__: "x" }]]), [{
      __dmp_shared__: "x",
    }]);
    // A child puts it on a queue it received: reduced twice on the way (a
    // "subprocess" child's proxy host puts what the child reduced).
    const queue = new Queue<unknown>();
    const p = new (getContext(method).Process)({
      target: T("putBack"),
      args: [queue, values],
    });
    p.start();
    deepEqual(await queue.get({ timeout: 30 }), values, method);
    equal(await p.join(30), 0);
  }
});

Deno.test("a class that cannot be found by reference is a TypeError naming the path and the fix", () => {
  class Hidden {
    x = 1;
  }
  throws(() => reduce({ h: [new Hidden()] }, "args", "apply"), (e: Error) => {
    assert(e instanceof TypeError);
    match(e.message, /'args\.h\[0\]'/);
    match(e.message, /class 'Hidden'/);
    match(e.message, /export the class/);
    return true;
  });
});

Deno.test("host objects are a TypeError naming the path, never a silent {}", async () => {
  const file = await Deno.open(new URL(import.meta.url));
  const listener = Deno.listen({ port: 0 });
  const stream = new ReadableStream();
  const controller = new AbortController();
  const accepted = listener.accept();
  const conn = await Deno.connect({
    port: (listener.addr as Deno.NetAddr).port,
  });
  const server = await accepted;
  const worker = new Worker(
    "data:application/javascript,self.onmessage = () => {};",
    { type: "module" },
  );
  try {
    const cases: [unknown, RegExp][] = [
      [file, /Deno\.FsFile/],
      [listener, /Listener/],
      [conn, /Conn/],
      [worker, /Worker/],
      [stream, /ReadableStream/],
      [new WritableStream(), /WritableStream/],
      [controller.signal, /AbortSignal/],
      [Promise.resolve(1), /Promise/],
      [new URL("https://example.com/"), /a URL \(a built-in object/],
      [new TextEncoder(), /a TextEncoder/],
      [(function* () {})(), /a generator \(it runs in this process/],
      [(async function* () {})(), /an async generator/],
      [new Map().keys(), /an iterator/],
    ];
    for (const [value, kind] of cases) {
      throws(() => reduce([{ file: value }], "args", "apply"), (e: Error) => {
        assert(e instanceof TypeError);
        match(e.message, /'args\[0\]\.file'/);
        match(e.message, kind);
        match(e.message, /Fix:/);
        return true;
      });
      // The queue and pipe codec refuses them the same way.
      throws(() => encodeValue({ file: value }, "item", "put item"), TypeError);
    }
  } finally {
    file.close();
    conn.close();
    server.close();
    listener.close();
    worker.terminate();
  }
});

Deno.test("built-ins that structured clone keeps travel as they are", () => {
  const back = roundTrip([
    new Blob(["x"]),
    new DOMException("m", "AbortError"),
  ]);
  const [blob, dom] = back as [Blob, DOMException];
  assert(blob instanceof Blob);
  assert(dom instanceof DOMException);
  equal(dom.name, "AbortError");
});

Deno.test("errors keep their class and own properties: built-in, Deno.errors and exported", () => {
  const typed = roundTrip(Object.assign(new TypeError("t"), { code: 7 })) as
    & TypeError
    & { code: number };
  assert(typed instanceof TypeError);
  equal(typed.code, 7);
  let notFound: unknown;
  try {
    Deno.readTextFileSync("/definitely/not/here.txt");
  } catch (e) {
    notFound = e;
  }
  const back = roundTrip(notFound) as Error;
  assert(back instanceof Deno.errors.NotFound);
  equal(back.message, (notFound as Error).message);
  const app = roundTrip(new AppError("boom", 42)) as AppError;
  assert(app instanceof AppError);
  equal(app.code, 42);
  equal(app.message, "boom");
  equal(app.name, "AppError");
});

Deno.test("the [kReduceValue]() hook rebuilds a value by calling its exported callable", () => {
  const back = roundTrip([new Celsius(21)]) as Celsius[];
  assert(back[0] instanceof Celsius);
  equal(back[0].degrees, 21);
});

Deno.test("queue and pipe records carry class instances, errors and reduced values", () => {
  const value = [new Point(1, 1), new AppError("e", 3), new Celsius(4)];
  const { tag, bytes } = encodeValue(value, "item", "put item");
  const back = decodeValue(tag, bytes.slice()) as [Point, AppError, Celsius];
  assert(back[0] instanceof Point);
  assert(back[1] instanceof AppError);
  equal(back[1].code, 3);
  equal(back[2].degrees, 4);
});

Deno.test("a blocking receive of a class whose module is not loaded says so; an awaited one imports it", async () => {
  const url = new URL("./fixtures/value_far_class.js", import.meta.url).href;
  const form = {
    __dmp_shared__: "@dmp/class",
    ref: { url, name: "Far", source: "class Far {\n  n = 1;\n}" },
    fields: { n: 2 },
    v: undefined,
  };
  const bytes = serialize(form);
  throws(() => decodeValue(kRecordV8, bytes), (e: Error) => {
    assert(e instanceof TypeError);
    match(e.message, /class 'Far' must be loaded in this process/);
    match(e.message, /get\(\), recv\(\)/);
    return true;
  });
  const far = await received(decodeRecord(kRecordV8, bytes)) as { n: number };
  const { Far } = await import(url);
  assert(far instanceof Far);
  equal(far.n, 2);
});

Deno.test("an error of a class that cannot be found keeps its name, base class and own properties", () => {
  class LocalError extends RangeError {
    override name = "LocalError";
    code = 9;
  }
  const back = roundTrip(new LocalError("x")) as RangeError & { code: number };
  assert(back instanceof RangeError);
  equal(back.name, "LocalError");
  equal(back.code, 9);
  equal(back.message, "x");
});

Deno.test("Process args keep their class in the child", async () => {
  const queue = new Queue<unknown>();
  const p = new Process({ target: reportArgs, args: [queue, new Point(3, 4)] });
  p.start();
  deepEqual(await queue.get({ timeout: 60 }), [true, 25]);
  equal(await p.join(), 0);
});

Deno.test("a child without permissions rebuilds a class of a module its target does not import", async () => {
  const queue = new Queue<unknown>();
  const p = new Process({
    target: T("reportClass"),
    args: [queue, new Box(6)],
    permissions: "none",
  });
  p.start();
  deepEqual(await queue.get({ timeout: 60 }), ["Box", 6]);
  equal(await p.join(), 0);
});

Deno.test("Process args with a host object fail at start() naming the path", () => {
  const p = new Process({
    target: reportArgs,
    args: [null, { s: new ReadableStream() }],
  });
  throws(
    () => p.start(),
    (e: Error) => e instanceof TypeError && /'args\[1\]\.s'/.test(e.message),
  );
});

Deno.test("a Queue carries class instances both ways between processes", async () => {
  const queue = new Queue<Point>();
  const p = new Process({ target: putPoint, args: [queue] });
  p.start();
  const got = await queue.get({ timeout: 60 });
  assert(got instanceof Point);
  equal(got.norm2(), 25);
  equal(await p.join(), 0);
});

Deno.test("a child's blocking getSync() rebuilds a class of its target's module", async () => {
  const queue = new Queue<Point>();
  const out = new Queue<unknown>();
  const p = new Process({ target: T("getPointSync"), args: [queue, out] });
  p.start();
  await queue.put(new Point(2, 1));
  deepEqual(await out.get({ timeout: 60 }), [true, 5]);
  equal(await p.join(), 0);
});

Deno.test("a Pipe carries class instances both ways between processes", async () => {
  const [parent, child] = Pipe();
  const p = new Process({ target: doublePoint, args: [child] });
  p.start();
  parent.send(new Point(1, 2));
  const [sawClass, back] = await parent.recv() as [boolean, Point];
  assert(sawClass);
  assert(back instanceof Point);
  deepEqual([back.x, back.y], [2, 4]);
  equal(await p.join(), 0);
});

for (const atomics of ["enabled", "disabled"] as const) {
  const options: PoolOptions = { atomics };
  Deno.test(`Pool args and results keep their class (atomics ${atomics})`, async () => {
    await using pool = new Pool(1, options);
    deepEqual(await pool.apply(inspectPoint, [new Point(1, 2)]), [true, 5]);
    const made = await pool.apply(makePoint, [2, 3]) as Point;
    assert(made instanceof Point);
    equal(made.norm2(), 13);
    const mapped = await pool.map(inspectPoint, [
      new Point(0, 1),
      new Point(1, 1),
    ]);
    deepEqual(mapped, [[true, 1], [true, 2]]);
    deepEqual(await pool.apply(readCelsius, [new Celsius(30)]), [true, 30]);
    const c = await pool.apply(makeCelsius, [12]) as Celsius;
    assert(c instanceof Celsius);
    equal(c.degrees, 12);
    // Class instances go by postMessage; plain values still take the ring.
    const before = transportCounters(pool);
    equal(await pool.apply(T("add"), [1, 2]), 3);
    const after = transportCounters(pool);
    if (atomics === "enabled") {
      equal(after.ring, before.ring + 1);
      equal(after.posted, before.posted);
    }
  });

  Deno.test(`Pool task errors keep their class and own properties (atomics ${atomics})`, async () => {
    await using pool = new Pool(1, options);
    await rejects(pool.apply(throwApp, []), (e: Error) => {
      assert(e instanceof AppError);
      equal((e as AppError).code, 42);
      equal(e.message, "app failed");
      return true;
    });
    await rejects(pool.apply(throwTyped, []), (e: Error) => {
      assert(e instanceof TypeError);
      equal((e as TypeError & { code: number }).code, 7);
      return true;
    });
    await rejects(
      pool.apply(throwNotFound, []),
      (e: Error) => e instanceof Deno.errors.NotFound,
    );
    const value = await pool.apply(returnError, []) as AppError;
    assert(value instanceof AppError);
    equal(value.code, 5);
  });

  Deno.test(`executor args and results keep their class (atomics ${atomics})`, async () => {
    await using ex = new ProcessPoolExecutor({ maxWorkers: 1, atomics });
    const p = await ex.submit(makePoint, 1, 1);
    assert(p instanceof Point);
    deepEqual(await ex.submit(inspectPoint, new Point(2, 2)), [true, 8]);
  });

  Deno.test(`Pool args with a host object fail at the call naming the path (atomics ${atomics})`, async () => {
    await using pool = new Pool(1, options);
    const file = await Deno.open(new URL(import.meta.url));
    try {
      throws(
        () => pool.applyAsync(inspectPoint, [{ file }]),
        (e: Error) =>
          e instanceof TypeError && /'args\[0\]\.file'/.test(e.message),
      );
    } finally {
      file.close();
    }
  });
}

Deno.test("an error class of a module only a URL target names keeps its class (Pool and executor)", async () => {
  const target = new URL(
    "./fixtures/url_only_errors.ts#throwUrlOnly",
    import.meta.url,
  );
  await using pool = new Pool(1);
  const fromPool = await pool.apply(target, [3]).catch((e: Error) => e);
  await using executor = new ProcessPoolExecutor({ maxWorkers: 1 });
  const fromExecutor = await executor.submit(target, 4).result()
    .catch((e: Error) => e);
  // Imported only now: the worker found the class without the creator's help.
  const { UrlOnlyError } = await import("./fixtures/url_only_errors.ts");
  assert(fromPool instanceof UrlOnlyError, String(fromPool));
  equal((fromPool as InstanceType<typeof UrlOnlyError>).code, 3);
  assert(fromExecutor instanceof UrlOnlyError, String(fromExecutor));
  equal((fromExecutor as InstanceType<typeof UrlOnlyError>).code, 4);
});

Deno.test("an AggregateError that travels by name alone keeps its message, with no errors", () => {
  const wire = toWireError(
    new AggregateError([new Error("a")], "two failures"),
  );
  const error = rebuildError(wire);
  assert(error instanceof AggregateError);
  equal(error.message, "two failures");
  deepEqual(error.errors, []);
  equal((error.cause as { remoteStack?: string }).remoteStack, wire.stack);
});

Deno.test("classes imported by bare names through an import map travel both ways", async () => {
  // A program of its own, written here: `deno check tests/` would find no
  // import map for its bare names.
  const dir = await Deno.makeTempDir();
  const files: Record<string, string> = {
    "import_map.json": JSON.stringify({ imports: { "@bare/": "./" } }),
    "models.ts": `
      export class Point {
        constructor(public x: number, public y: number) {}
        norm2(): number { return this.x * this.x + this.y * this.y; }
      }
      export class Failure extends Error {
        constructor(message: string, public code: number) {
          super(message);
          this.name = "Failure";
        }
      }`,
    "tasks.ts": `
      import { Failure, Point } from "@bare/models.ts";
      export function makePoint(x: number): Point { return new Point(x, x + 1); }
      export function norm2(p: Point): number { return p.norm2(); }
      export function fail(code: number): never { throw new Failure("failed", code); }`,
    "main.ts": `
      import { Pool } from ${
      JSON.stringify(new URL("../mod.ts", import.meta.url).href)
    };
      import { fail, makePoint, norm2 } from "@bare/tasks.ts";
      import { Failure, Point } from "@bare/models.ts";
      if (import.meta.main) {
        await using pool = new Pool(1);
        // Sent first, before a result made this process meet the class.
        console.log("sent", await pool.apply(norm2, [new Point(3, 4)]));
        const point = await pool.apply(makePoint, [2]);
        console.log("returned", point instanceof Point, point.norm2());
        const error = await pool.apply(fail, [7]).catch((e) => e);
        console.log("thrown", error instanceof Failure, error.code);
      }`,
  };
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const result = await runDeno([
      "run",
      "--allow-read",
      `--import-map=${dir}/import_map.json`,
      `${dir}/main.ts`,
    ]);
    equal(
      result.stdout,
      "sent 25\nreturned true 13\nthrown true 7\n",
      result.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
