// The cluster against a real `nats-server -js` started here on a free
// loopback port, with agents as separate OS processes, each serving its
// own copy of tests/cluster/tasks.ts from its own root.

import assert from "node:assert/strict";
import {
  Pool,
  ProcessError,
  RemoteError,
  TimeoutError,
  Value,
} from "../mod.ts";
import { ClusterPool, startAgent } from "../src/cluster/mod.ts";
import {
  AgentProcess,
  endAll,
  fileAppears,
  filesMatching,
  makeRoot,
  NatsServer,
  natsServerInstalled,
  startClient,
  withLoneAgent,
} from "./cluster/harness.ts";
import { Elsewhere, squaresAndCubes } from "./cluster/calls.ts";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { namesOf } from "../src/cluster/_protocol.ts";
import { deserialize, serialize } from "node:v8";
import type { ResultMessage } from "../src/cluster/_protocol.ts";
import {
  echo,
  moved,
  NegativeError,
  Point,
  positive,
  square,
} from "./cluster/tasks.ts";

const installed = natsServerInstalled();
// Once, from the test runner (a local Pool's workers import this module too).
if (!installed && !("WorkerGlobalScope" in globalThis)) {
  console.log(
    "cluster tests skipped: nats-server is not installed (apt-get install -y nats-server)",
  );
}

// nats.js keeps timers and sockets of its own between reconnects; every
// test still closes what it opens (servers, agents, clients) in `finally`.
const options = {
  ignore: !installed,
  sanitizeOps: false,
  sanitizeResources: false,
};

const local = new URL("./cluster/tasks.ts", import.meta.url);

/**
 * The default cluster's tasks in the stream once it holds at least
 * `expected()` (read again on each look: a client publishing meanwhile),
 * with the consumer's count of those not yet acknowledged (queued or
 * running).
 */
async function queuedTasks(
  server: NatsServer,
  expected: () => number,
): Promise<{ stored: number; unacked: number }> {
  const names = namesOf("default", "test");
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    while (true) {
      const stored = (await jsm.streams.info(names.stream)).state.messages;
      if (stored >= expected()) {
        const info = await jsm.consumers.info(names.stream, names.consumer);
        return { stored, unacked: info.num_pending + info.num_ack_pending };
      }
      // Publishing takes a round trip to the server: look again soon.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await nc.close();
  }
}

Deno.test({
  name:
    "ClusterPool runs maps on 3 agent processes, exactly once through an agent's kill -9 and a server restart",
  ...options,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "dmp_cluster_" });
    const server = await NatsServer.start(`${dir}/store`);
    const roots = await Promise.all(
      ["host-a", "host-b", "host-c"].map((name) => makeRoot(dir, name)),
    );
    const agents: AgentProcess[] = [];
    let pool: ClusterPool | undefined;
    // A client whose root is this folder's cluster/: its functions and
    // classes travel by reference to the modules that export them.
    const connectHere = () =>
      ClusterPool.connect({
        servers: server.url,
        root: new URL("./cluster/", import.meta.url).pathname,
      });
    try {
      agents.push(
        ...await Promise.all(
          roots.map((root) => AgentProcess.start({ server, root })),
        ),
      );
      const clientRoot = await makeRoot(dir, "client");
      await Deno.writeTextFile(
        `${clientRoot}/extra.ts`,
        "export function one(): number {\n  return 1;\n}\n",
      );
      pool = await ClusterPool.connect({
        servers: server.url,
        root: clientRoot,
      });
      const fn = (name: string) =>
        new URL(`file://${clientRoot}/tasks.ts#${name}`);
      const items = Array.from({ length: 40 }, (_, i) => i);
      // Another client of the same cluster and root.
      const client = () =>
        ClusterPool.connect({ servers: server.url, root: clientRoot });
      // `count` tasks of `by` held at `gate` until it opens (read by the
      // caller; a failed assertion terminates `by` and so rejects them).
      const gatedMap = (by: ClusterPool, count: number, gate: string) => {
        const all = by.starmap(
          fn("gated"),
          items.slice(0, count).map((i) => [i, gate]),
          1,
        );
        all.catch(() => {});
        return all;
      };

      await t.step(
        "map, starmap, imap, imapUnordered and apply equal the local Pool's results",
        async () => {
          await using localPool = new Pool(2);
          const square = new URL("#square", local);
          const power = new URL("#power", local);
          const pairs = items.map((i) => [i % 5, 3] as [number, number]);
          assert.deepEqual(
            await pool!.map(fn("square"), items),
            await localPool.map(square, items),
          );
          assert.deepEqual(
            await pool!.map(fn("square"), items, 7),
            await localPool.map(square, items, 7),
          );
          assert.deepEqual(
            await pool!.starmap(fn("power"), pairs),
            await localPool.starmap(power, pairs),
          );
          assert.deepEqual(
            await Array.fromAsync(pool!.imap(fn("square"), items)),
            await Array.fromAsync(localPool.imap(square, items)),
          );
          assert.deepEqual(
            (await Array.fromAsync(pool!.imapUnordered(fn("square"), items, 3)))
              .sort((a, b) => (a as number) - (b as number)),
            (await Array.fromAsync(localPool.imapUnordered(square, items, 3)))
              .sort((a, b) => (a as number) - (b as number)),
          );
          assert.equal(
            await pool!.apply(fn("power"), [2, 10]),
            await localPool.apply(power, [2, 10]),
          );
          assert.deepEqual(await pool!.mapAsync(fn("square"), [3, 4]).get(), [
            9,
            16,
          ]);
          assert.deepEqual(
            await pool!.starmapAsync(fn("power"), [[2, 5]]).get(),
            [32],
          );
          assert.equal(await pool!.applyAsync(fn("square"), [12]).get(), 144);
        },
      );

      await t.step(
        "a map of a function the agents measured as quick goes to them in one chunk",
        async () => {
          // Measured by the maps above. A chunk that a busy host slowed
          // down can split one map, not each of ten in a row.
          let chunks = Infinity;
          for (let i = 0; i < 10 && chunks > 1; i++) {
            const before = pool!.stats().done;
            assert.deepEqual(
              await pool!.map(fn("square"), items),
              items.map((x) => x * x),
            );
            chunks = pool!.stats().done - before;
          }
          assert.equal(chunks, 1);
        },
      );

      await t.step(
        "a function value travels by reference to the module that exports it",
        async () => {
          await using byValue = await connectHere();
          // tasks.ts is the same on every agent; calls.ts is served by none.
          await assert.rejects(
            squaresAndCubes(byValue, [1, 2, 3]),
            /does not serve calls\.ts/,
          );
          assert.deepEqual(await byValue.map(square, [1, 2, 3]), [1, 4, 9]);
          // A module that imports the tasks by an absolute path, under a
          // namespace, and calls the pool itself.
          const caller = `${clientRoot}/by_path.ts`;
          await Deno.writeTextFile(
            caller,
            `import * as tasks from "${clientRoot}/tasks.ts";\n` +
              "export function run(pool: { map(f: unknown, xs: number[]): Promise<number[]> }) {\n" +
              "  return pool.map(tasks.square, [4, 5]);\n}\n",
          );
          const { run } = await import(`file://${caller}`);
          await using fromRoot = await client();
          assert.deepEqual(await run(fromRoot), [16, 25]);
        },
      );

      await t.step(
        "an exported class instance travels as itself, as argument and result, and a thrown error subclass keeps its class with a RemoteError cause naming the host",
        async () => {
          await using byValue = await connectHere();
          const point = await byValue.apply(moved, [new Point(1, 2)]);
          assert.ok(point instanceof Point);
          assert.equal(point.sum(), 5);
          const points = [new Point(0, 0), new Point(5, 5)];
          for (
            const all of [
              await byValue.map(moved, points),
              await Array.fromAsync(byValue.imap(moved, points)),
            ]
          ) {
            assert.ok(all.every((p) => p instanceof Point));
            assert.deepEqual(all.map((p) => p.sum()), [2, 12]);
          }
          // A plain object with the library's tag key is data, whatever it
          // holds, through the client, the agent and its pool.
          const tagged = ["Value", "@dmp/class", "mine"].map((tag) => ({
            __dmp_shared__: tag,
            at: new Point(1, 1),
          }));
          const back = await byValue.apply(echo, [tagged]);
          assert.deepEqual(back, tagged);
          assert.ok(back[0].at instanceof Point);
          // No value makes an agent import a module it does not serve.
          await assert.rejects(
            byValue.apply(moved, [new Elsewhere() as never]),
            /class 'Elsewhere' must come from a module the agent serves/,
          );
          const error = await byValue.apply(positive, [-4]).then(
            () => assert.fail("no error"),
            (e: Error) => e,
          );
          assert.ok(error instanceof NegativeError);
          assert.equal(error.value, -4);
          assert.equal(error.message, "negative: -4");
          assert.ok(error.cause instanceof RemoteError);
          assert.match(
            (error.cause as RemoteError & { host: string }).host,
            /^\S+:\d+$/,
          );
          assert.match(error.cause.remoteStack, /at positive/);
          assert.match(error.cause.remoteStack, /on agent \S+:\d+/);
          // An AggregateError keeps its message and errors both ways: from
          // the agent's worker to the agent, and from the agent here.
          const aggregate = await pool!.apply(fn("aggregate"), []).then(
            () => assert.fail("no error"),
            (e: Error) => e,
          );
          assert.ok(aggregate instanceof AggregateError);
          assert.equal(aggregate.message, "two failures");
          assert.deepEqual(
            aggregate.errors.map((e: Error) => [e.constructor, e.message]),
            [[Error, "a"], [TypeError, "b"]],
          );
          assert.match(
            (aggregate.cause as RemoteError).remoteStack,
            /at aggregate/,
          );
        },
      );

      await t.step("processes and stats() count the live agents", () => {
        const stats = pool!.stats();
        assert.equal(stats.agents, 3);
        assert.equal(pool!.processes, 6);
        assert.equal(stats.processes, 6);
        assert.equal(stats.queued, 0);
        assert.ok(stats.done > 0);
      });

      await t.step(
        "a task's error keeps its class and message, with the remote stack and host as cause",
        async () => {
          const error = await pool!.apply(fn("checked"), [-3]).then(
            () => assert.fail("no error"),
            (e: Error) => e,
          );
          assert.ok(error instanceof RangeError);
          assert.equal(error.message, "negative: -3");
          assert.ok(error.cause instanceof RemoteError);
          assert.match(error.cause.remoteStack, /at checked/);
          assert.match(error.cause.remoteStack, /on agent \S+:\d+/);
          await assert.rejects(
            pool!.map(fn("checked"), [1, -2, 3]),
            RangeError,
          );
          // A worker that dies on an agent: the agent's own error, and
          // where it happened.
          const died = await pool!.apply(fn("endWorker")).then(
            () => assert.fail("no error"),
            (e: Error) => e,
          );
          assert.ok(died instanceof ProcessError, String(died));
          assert.ok(died.cause instanceof RemoteError);
          assert.match(
            (died.cause as RemoteError & { host: string }).host,
            /\S+:\d+/,
          );
        },
      );

      await t.step(
        "a module no agent serves is a clear error, not a hang",
        async () => {
          const one = new URL(`file://${clientRoot}/extra.ts#one`);
          await assert.rejects(pool!.apply(one, []), (error: Error) => {
            assert.ok(error instanceof ProcessError);
            assert.match(
              error.message,
              /does not serve extra\.ts: it serves tasks\.ts/,
            );
            return true;
          });
        },
      );

      await t.step(
        "no message can make an agent import a module outside its list",
        async () => {
          // A hand-made task, as a hostile client would publish it.
          const nc = await connect({ servers: server.url });
          try {
            const replies: ResultMessage[] = [];
            const got = Promise.withResolvers<void>();
            nc.subscribe("dmp.default.results.evil", {
              callback: (_error, msg) => {
                const reply = deserialize(msg.data) as ResultMessage;
                nc.publish(reply.ack, "+ACK"); // as a client acks its tasks
                replies.push(reply);
                if (replies.length === 2) got.resolve();
              },
            });
            const js = jetstream(nc);
            const evil = (id: string, module: string) =>
              js.publish(
                "dmp.default.tasks.evil",
                serialize({
                  id,
                  client: "evil",
                  module,
                  hash: "",
                  name: "square",
                  kind: "apply",
                  args: [2],
                }),
              );
            await evil("1", "../client/extra.ts");
            await evil("2", `file://${clientRoot}/extra.ts`);
            await got.promise;
            for (const reply of replies) {
              assert.equal(reply.ok, false);
              assert.match(
                (reply as { error: { message: string } }).error.message,
                /does not serve/,
              );
            }
          } finally {
            await nc.close();
          }
        },
      );

      await t.step(
        "arguments that cannot travel (a function, shared memory), or exceed the server's max_payload, fail the call",
        async () => {
          await assert.rejects(pool!.apply(fn("square"), [() => 1]), TypeError);
          // Shared memory stays on its host.
          await assert.rejects(
            pool!.apply(fn("square"), [new Value("i", 1)]),
            /shared object/,
          );
          await assert.rejects(
            pool!.apply(fn("square"), [new Uint8Array(2 * 1024 * 1024)]),
            /max_payload/,
          );
          assert.equal(pool!.stats().queued, 0);
        },
      );

      await t.step(
        "apply() with a timeout rejects with TimeoutError, and a signal with its reason",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          await assert.rejects(
            pool!.apply(fn("gated"), [1, gate], { timeout: 0.2 }),
            TimeoutError,
          );
          const controller = new AbortController();
          const aborted = pool!.apply(fn("gated"), [2, gate], {
            signal: controller.signal,
          });
          await fileAppears(gate, /^started-\d+-2$/);
          controller.abort(new Error("no longer needed"));
          await assert.rejects(aborted, /no longer needed/);
          await Deno.writeTextFile(`${gate}/open`, "");
          assert.equal(pool!.stats().queued, 0);
        },
      );

      await t.step(
        "terminate() withdraws the queued work and rejects what is pending",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          const count = 30;
          const other = await ClusterPool.connect({
            servers: server.url,
            root: clientRoot,
          });
          const all = other.starmap(
            fn("gated"),
            items.slice(0, count).map((i) => [i, gate]),
            1,
          );
          await fileAppears(gate, /^started-/);
          other.terminate();
          await assert.rejects(all, ProcessError);
          await other.join();
          await Deno.writeTextFile(`${gate}/open`, "");
          // Queued after the withdrawn tasks: done once the agents are past them.
          assert.deepEqual(await pool!.map(fn("square"), [1, 2, 3], 1), [
            1,
            4,
            9,
          ]);
          const ran = await filesMatching(gate, /^started-/);
          assert.ok(ran.length < count, `${ran.length} of ${count} ran`);
        },
      );

      await t.step(
        "terminate() of one client leaves every other client's queued tasks to run",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          const count = 30;
          // Terminated at the end (and so at a failed assertion).
          await using first = await client();
          const quitter = await client();
          const all = gatedMap(first, count, gate);
          await fileAppears(gate, /^started-/);
          // Every task `first` has out is in the stream.
          const out = () => first.stats().queued;
          await queuedTasks(server, out);
          // On nats-server 2.9 the purge filtered on the quitter's own
          // subject it used to do moved the consumer every agent shares
          // past all of `first`'s queued tasks: they never ran.
          quitter.terminate();
          await quitter.join();
          // Nothing of `first`'s has finished (the gate is shut).
          const { unacked } = await queuedTasks(server, out);
          assert.ok(unacked >= out(), `${unacked} of ${out()} left`);
          await Deno.writeTextFile(`${gate}/open`, "");
          assert.equal((await all).length, count);
        },
      );

      await t.step(
        "bad task options reject at the call and leave nothing pending; a task given up on before it starts never runs",
        async () => {
          const marks = await Deno.makeTempDir({ dir });
          await assert.rejects(
            pool!.apply(fn("square"), [2], { signal: "x" as never }),
            /Cannot run apply on the cluster as 'signal' must be an AbortSignal/,
          );
          await assert.rejects(
            pool!.apply(fn("square"), [2], { timeout: -1 }),
            RangeError,
          );
          await assert.rejects(
            pool!.apply(fn("square"), [2], { timeot: 1 } as never),
            /did you mean 'timeout'/,
          );
          assert.throws(
            () => pool!.applyAsync(fn("square"), [2], { callback: 5 as never }),
            /'callback' must be a function: current value is 5/,
          );
          assert.throws(
            () => pool!.mapAsync(fn("square"), [2], 4 as never),
            /'options' must be an object: current value is 4/,
          );
          await assert.rejects(pool!.map(fn("square"), 5 as never), TypeError);
          await assert.rejects(
            pool!.map(fn("square"), { length: 2 } as never),
            /'iterable' must be iterable/,
          );
          await assert.rejects(
            pool!.starmap(fn("square"), [5] as never),
            /item 0 must be an array of arguments/,
          );
          // As Pool's: imap's errors come on its first next(), mapAsync's at
          // the call, map's and apply's as rejections, never throws.
          const notIterable = pool!.imap(fn("square"), 5 as never);
          await assert.rejects(notIterable.next(), TypeError);
          await assert.rejects(
            pool!.imap(fn("square"), [1], 0).next(),
            /'chunksize' must be a positive integer/,
          );
          assert.throws(
            () => pool!.mapAsync(fn("square"), [1], { chunksize: 0 }),
            /'chunksize' must be a positive integer/,
          );
          await assert.rejects(pool!.map(5 as never, [1] as never), TypeError);
          await assert.rejects(pool!.apply(5 as never, [] as never), TypeError);
          await assert.rejects(
            pool!.apply(new URL(`file://${clientRoot}/missing.ts#f`)),
            /'fn' must name a module that exists/,
          );
          // Given up on before it starts: rejected, and never published.
          const reason = new Error("given up");
          await assert.rejects(
            pool!.apply(fn("gated"), [1, marks], {
              signal: AbortSignal.abort(reason),
            }),
            (error) => error === reason,
          );
          await assert.rejects(
            pool!.apply(fn("gated"), [2, marks], { timeout: 0 }),
            TimeoutError,
          );
          assert.equal(pool!.stats().queued, 0);
          // Later work runs (the agents took nothing of the above), and
          // the two tasks above never started.
          assert.deepEqual(await pool!.map(fn("square"), [1, 2], 1), [1, 4]);
          assert.deepEqual(await filesMatching(marks, /^started-/), []);
        },
      );

      await t.step(
        "a map whose merged chunks outgrow max_payload is sent in smaller chunks",
        async () => {
          // ~1.5 MB of items, at most 1 MB a message: after a first map
          // the function counts as quick and its chunks are merged by count.
          const big = Array.from(
            { length: 1_500 },
            (_, i) => "x".repeat(1_000) + i,
          );
          for (let round = 0; round < 2; round++) {
            assert.deepEqual(await pool!.map(fn("echo"), big), big);
          }
        },
      );

      await t.step(
        "a map whose results outgrow max_payload completes, every call",
        async () => {
          // Measured quick on small results, the function's next map goes
          // in one chunk whose results (4 MB) outgrow the 1 MB a message:
          // it runs again in halves; then its chunks are sized by the
          // results measured.
          const sizes = (texts: unknown[]) =>
            texts.map((x) => (x as string).length);
          const small = Array(40).fill(10);
          assert.deepEqual(sizes(await pool!.map(fn("text"), small)), small);
          const large = Array(40).fill(100_000);
          for (let round = 0; round < 2; round++) {
            assert.deepEqual(sizes(await pool!.map(fn("text"), large)), large);
          }
        },
      );

      await t.step(
        "mapAsync, applyAsync, then close() and join(): join waits for their work",
        async () => {
          const closing = await client();
          const squares = closing.mapAsync(fn("square"), [3, 4]);
          const power = closing.applyAsync(fn("power"), [2, 5]);
          const before = closing.imap(fn("square"), [5, 6]);
          closing.close();
          // As Pool's: an imap made before close() is read to its end; new
          // calls are refused, by rejection where a promise is returned.
          assert.deepEqual(await Array.fromAsync(before), [25, 36]);
          await assert.rejects(closing.map(fn("square"), [1]), /not running/);
          assert.throws(() => closing.applyAsync(fn("square")), /not running/);
          await assert.rejects(
            closing.imap(fn("square"), [1]).next(),
            /not running/,
          );
          await closing.join();
          assert.deepEqual(await squares.get(), [9, 16]);
          assert.equal(await power.get(), 32);
        },
      );

      await t.step(
        "maxPending bounds a client's share, so another client's task runs beside its map",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          const greedy = await ClusterPool.connect({
            servers: server.url,
            root: clientRoot,
            maxPending: 2,
          });
          try {
            const all = greedy.starmap(
              fn("gated"),
              items.slice(0, 20).map((i) => [i, gate]),
              1,
            );
            await fileAppears(gate, /^started-/);
            // Every other process is free: this runs while the map is held.
            assert.equal(await pool!.apply(fn("square"), [7]), 49);
            assert.ok((await filesMatching(gate, /^started-/)).length <= 2);
            await Deno.writeTextFile(`${gate}/open`, "");
            assert.equal((await all).length, 20);
          } finally {
            await greedy[Symbol.asyncDispose]();
          }
        },
      );

      await t.step(
        "another client's task waits for about one round of a long map, not for all of it",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          const processes = pool!.processes;
          const count = 40;
          await using long = await client();
          const all = gatedMap(long, count, gate);
          await fileAppears(gate, /^started-/);
          // What `long` has out is in the stream; then the small task,
          // behind it, before the gate opens.
          const out = () => long.stats().queued;
          await queuedTasks(server, out);
          const small = pool!.apply(fn("gated"), [1_000, gate]);
          await queuedTasks(server, () => out() + 1);
          await Deno.writeTextFile(`${gate}/open`, "");
          assert.equal(await small, 1_000_000);
          assert.equal((await all).length, count);
          const started = new Map<number, number>();
          for (const name of await filesMatching(gate, /^started-/)) {
            const i = Number(name.split("-")[2]);
            started.set(
              i,
              Number(await Deno.readTextFile(`${gate}/${name}`)),
            );
          }
          const smallAt = started.get(1_000)!;
          const before = [...started].filter(([i, at]) =>
            i !== 1_000 && at < smallAt
          ).length;
          // All of `long`'s tasks went into the queue at once: the small
          // task started after all 40. Now `long` keeps about two a
          // process out: one running, one queued.
          assert.ok(
            before <= 3 * processes,
            `${before} of ${count} started first (${processes} processes)`,
          );
        },
      );

      await t.step(
        "kill -9 of an agent mid-map: every result exactly once",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          const victim = agents[1];
          const expected = items.map((i) => i * i);
          const before = pool!.stats();
          const all = pool!.starmap(
            fn("gated"),
            items.map((i) => [i, gate]),
            1,
          );
          await fileAppears(gate, new RegExp(`^started-${victim.pid}-`));
          await victim.end("SIGKILL");
          agents.splice(1, 1);
          await Deno.writeTextFile(`${gate}/open`, "");
          assert.deepEqual(await all, expected);
          const after = pool!.stats();
          assert.equal(after.done - before.done, items.length);
          assert.ok(after.redelivered > before.redelivered);
        },
      );

      // A gated map of `items` whose tasks have started when `restart` runs.
      const mapAcross = async (restart: () => Promise<void>) => {
        const gate = await Deno.makeTempDir({ dir });
        const all = pool!.starmap(
          fn("gated"),
          items.map((i) => [i, gate]),
          1,
        );
        await fileAppears(gate, /^started-/);
        await restart();
        await Deno.writeTextFile(`${gate}/open`, "");
        assert.deepEqual(await all, items.map((i) => i * i));
      };

      await t.step(
        "the server stopped and restarted mid-map: the map completes",
        () =>
          mapAcross(async () => {
            await server.stop();
            await server.restart();
          }),
      );

      await t.step(
        "the server restarted without its store mid-map: the stream is made again and the map completes",
        async () => {
          await mapAcross(async () => {
            await server.stop("SIGKILL");
            await server.restart({ emptyStore: true });
          });
          // Later work, and a new client, find the stream too.
          assert.deepEqual(await pool!.map(fn("square"), [1, 2], 1), [1, 4]);
          await using another = await client();
          assert.deepEqual(await another.map(fn("square"), [3]), [9]);
        },
      );

      await t.step(
        "a client that goes away has its queued work withdrawn",
        async () => {
          const gate = await Deno.makeTempDir({ dir });
          const count = 30;
          const client = startClient([
            server.url,
            clientRoot,
            gate,
            String(count),
          ]);
          try {
            await client.seen(/submitted/);
            await fileAppears(gate, /^started-/);
          } finally {
            await client.end("SIGKILL");
          }
          await Deno.writeTextFile(`${gate}/open`, "");
          // Its tasks are ahead of these in the queue: once these are done,
          // the agents have taken all of them, and ran only a few.
          assert.deepEqual(await pool!.map(fn("square"), [1, 2, 3], 1), [
            1,
            4,
            9,
          ]);
          const ran = await filesMatching(gate, /^started-/);
          assert.ok(ran.length < count, `${ran.length} of ${count} ran`);
        },
      );
    } finally {
      if (pool) await pool[Symbol.asyncDispose]();
      await endAll(agents, server, dir);
    }
  },
});

Deno.test({
  name:
    "ClusterPool refuses a module whose copy differs on an agent, naming the module and host",
  ...options,
  fn: () =>
    withLoneAgent({
      cluster: "other",
      extra: "\n// changed on this host\n",
    }, async ({ connect, fn }) => {
      const pool = await connect();
      await assert.rejects(pool.apply(fn("square"), [2]), (error: Error) => {
        assert.ok(error instanceof ProcessError);
        assert.match(error.message, /tasks\.ts differs on host \S+:\d+/);
        return true;
      });
    }),
});

Deno.test({
  name:
    "ClusterPool.connect() is refused by a server that requires auth, and accepted with the credentials",
  ...options,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "dmp_cluster_" });
    const server = await NatsServer.start(`${dir}/store`, [
      "--user",
      "ann",
      "--pass",
      "s3cret",
    ]);
    try {
      await assert.rejects(
        ClusterPool.connect({ servers: server.url }),
        /Authorization Violation/i,
      );
      await assert.rejects(
        ClusterPool.connect({
          servers: server.url,
          user: "ann",
          pass: "wrong",
        }),
        /Authorization Violation/i,
      );
      await using pool = await ClusterPool.connect({
        servers: server.url,
        user: "ann",
        pass: "s3cret",
      });
      assert.equal(pool.stats().agents, 0);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Test-only certificates in tests/cluster/certs: a CA (its key discarded),
// a server certificate for 127.0.0.1 and localhost, and a client one, valid
// until 2126.
const certs = new URL("./cluster/certs/", import.meta.url).pathname;

Deno.test({
  name:
    "ClusterPool.connect() without a client certificate is refused at once by a server that requires one, and accepted with it",
  ...options,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "dmp_cluster_" });
    const server = await NatsServer.start(`${dir}/store`, [
      "--tlsverify",
      "--tlscert",
      `${certs}server.pem`,
      "--tlskey",
      `${certs}server.key`,
      "--tlscacert",
      `${certs}ca.pem`,
    ]);
    try {
      // Deno's TLS layer loses the server's alert at times: this waited for
      // nats.js's 20 s timeout, or ended the program.
      await assert.rejects(
        ClusterPool.connect({
          servers: server.url,
          tls: { caFile: `${certs}ca.pem` },
        }),
        TypeError,
        "'tls' must name a client certificate",
      );
      await using pool = await ClusterPool.connect({
        servers: server.url,
        tls: {
          caFile: `${certs}ca.pem`,
          certFile: `${certs}client.pem`,
          keyFile: `${certs}client.key`,
        },
      });
      assert.equal(pool.stats().agents, 0);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// SIGTERM ends the agent by itself, with code 0 and its "stopped" line.
async function assertStopsCleanly(agent: AgentProcess): Promise<void> {
  const status = await agent.end();
  assert.deepEqual([status.code, status.signal], [0, null], agent.output);
  assert.match(agent.output, /agent \S+ stopped/);
}

Deno.test({
  name: "An agent sent SIGTERM right after its start line stops cleanly",
  ...options,
  fn: () =>
    withLoneAgent(
      { cluster: "early" },
      ({ agent }) => assertStopsCleanly(agent),
    ),
});

Deno.test({
  name:
    "A second SIGTERM ends an agent at once, though it holds a task that never finishes",
  ...options,
  fn: () =>
    withLoneAgent({ cluster: "twice" }, async ({ agent, connect, dir, fn }) => {
      const pool = await connect();
      const gate = await Deno.makeTempDir({ dir });
      // The gate never opens: the task runs until its agent ends.
      const held = pool.apply(fn("gated"), [1, gate]).catch((error) => error);
      await fileAppears(gate, /^started-/);
      agent.signal("SIGTERM");
      await agent.seen(/stopping: 1 tasks to finish/);
      const status = await agent.end("SIGTERM");
      assert.equal(status.code, 143, agent.output);
      pool.terminate();
      assert.ok(await held instanceof Error);
    }),
});

Deno.test({
  name: "An agent stops on SIGTERM while its server is down",
  ...options,
  fn: () =>
    withLoneAgent({ cluster: "away" }, async ({ agent, server }) => {
      // Killed: no goodbye to the pulls it holds, which nats.js then
      // waits on until the server comes back.
      await server.stop("SIGKILL");
      await assertStopsCleanly(agent);
    }),
});

Deno.test({
  name:
    "An agent gives back a task it claimed ahead for a process whose task overran its measure, and another agent runs it",
  ...options,
  fn: () =>
    withLoneAgent(
      { cluster: "ahead" },
      async ({ agent, connect, dir, fn, server }) => {
        const pool = await connect();
        // Quick while its gate is open, so the agent expects the next
        // chunk of latch to end at once and claims a task ahead for it.
        const quick = Array.from({ length: 8 }, () => [""]);
        await pool.starmap(fn("latch"), quick, 1);
        const gate = await Deno.makeTempDir({ dir });
        const held = pool.starmap(fn("latch"), [[gate]], 1);
        held.catch(() => {}); // read below, unless the test fails first
        await fileAppears(gate, /^started-/);
        const before = pool.stats().redelivered;
        // The timeout is a bound, so that a task never given back fails
        // the test instead of hanging it.
        const square = pool.apply(fn("square"), [7], { timeout: 60 });
        await Promise.race([agent.seen(/gave back a task/), square]);
        const other = await AgentProcess.start({
          server,
          root: await makeRoot(dir, "host-b"),
          processes: 1,
          cluster: "ahead",
        });
        try {
          assert.equal(await square, 49);
          assert.equal(pool.stats().redelivered, before + 1);
          await Deno.writeTextFile(`${gate}/open`, "");
          assert.deepEqual(await held, [0]);
        } finally {
          await other.end();
        }
      },
    ),
});

Deno.test({
  name: "ClusterPool.connect() rejects unknown options and bad values",
  fn: async () => {
    await assert.rejects(
      ClusterPool.connect({ servers: "127.0.0.1:1", colour: "red" } as never),
      TypeError,
    );
    await assert.rejects(ClusterPool.connect({ servers: [] }), TypeError);
    await assert.rejects(
      ClusterPool.connect({ servers: "127.0.0.1:1", cluster: "a.b" }),
      TypeError,
    );
    await assert.rejects(
      ClusterPool.connect({ servers: "127.0.0.1:1", maxPending: 0 }),
      RangeError,
    );
    // Checked here, not passed on to fail later or far away (a token that
    // is a number stalled the connection for 20 s).
    const wrong: [Record<string, unknown>, RegExp][] = [
      [{ token: 5 }, /'token' must be a string: current value is 5/],
      [{ user: {}, pass: "x" }, /'user' must be a string/],
      [{ root: 5 }, /'root' must be a string: current value is 5/],
      [{ tls: "yes" }, /'tls' must be an object of file paths/],
      [{ tls: { caFile: 1 } }, /'tls' must be an object of file paths/],
      // A password alone was passed on, and no user logged in.
      [{ pass: "x" }, /'pass' must come with 'user'/],
      [{ user: "ann" }, /'user' must come with 'pass'/],
    ];
    for (const [bad, message] of wrong) {
      await assert.rejects(
        ClusterPool.connect({ servers: "127.0.0.1:1", ...bad } as never),
        (error: Error) =>
          error instanceof TypeError && message.test(error.message),
      );
    }
    // Before any connection: an open one would keep the program alive.
    await assert.rejects(
      startAgent({
        servers: "127.0.0.1:1",
        modules: ["./tests/cluster/tasks.ts"],
        permissions: "bogus" as never,
      }),
      /Cannot start agent as 'permissions' must be/,
    );
    const agentWrong: [Record<string, unknown>, RegExp][] = [
      [{ modules: [5] }, /each of 'modules' must be a path or URL/],
      [{ modules: [] }, /'modules' must be a non-empty list/],
      [
        { startMethod: "bogus" },
        /'startMethod' must be "spawn" or "subprocess"/,
      ],
    ];
    for (const [bad, message] of agentWrong) {
      await assert.rejects(
        startAgent({
          servers: "127.0.0.1:1",
          modules: ["./tests/cluster/tasks.ts"],
          ...bad,
        } as never),
        (error: Error) =>
          error instanceof TypeError && message.test(error.message),
      );
    }
  },
});

Deno.test({
  name:
    "ClusterPool: a task that kills every agent it runs on fails after 4 deliveries, with a clear error",
  ...options,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "dmp_cluster_" });
    const server = await NatsServer.start(`${dir}/store`);
    const agents: AgentProcess[] = [];
    let pool: ClusterPool | undefined;
    try {
      // Four deliveries kill four agents; the fifth refuses to run it.
      agents.push(
        ...await Promise.all(
          Array.from({ length: 5 }, async (_, i) =>
            AgentProcess.start({
              server,
              root: await makeRoot(dir, `host-${i}`),
              processes: 1,
              cluster: "poison",
            })),
        ),
      );
      const clientRoot = await makeRoot(dir, "client");
      pool = await ClusterPool.connect({
        servers: server.url,
        root: clientRoot,
        cluster: "poison",
      });
      const die = new URL(`file://${clientRoot}/tasks.ts#die`);
      await assert.rejects(pool.apply(die, []), (error: Error) => {
        assert.ok(error instanceof ProcessError);
        assert.match(error.message, /delivered 5 times without finishing/);
        return true;
      });
      assert.equal(pool.stats().redelivered, 1);
    } finally {
      if (pool) await pool[Symbol.asyncDispose]();
      await endAll(agents, server, dir);
    }
  },
});
