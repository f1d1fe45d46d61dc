// Queues and pipes: small-message throughput one producer → one consumer,
// Pipe round-trip latency, a 4K video frame through a Queue, and the codecs
// a message can be encoded with (the table in bench/codecs.md).
//
//   npx -y deno@2.9.6 bench -A bench/queues_bench.ts
//
// Targets (2-core dev machine): ≥ 1 M small messages/s through a Queue
// (CPython: ~120–240 k/s); ≤ 10 µs per Pipe round trip, hot.

import { deserialize, serialize } from "node:v8";
import { Pipe, Process, Queue } from "../mod.ts";
import {
  decodeValue,
  encodeValue,
  needsFreshBytes,
} from "../src/_memory/record_codec.ts";

const T = (name: string) =>
  new URL(`../tests/fixtures/queue_targets.ts#${name}`, import.meta.url);

function flag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

function daemon(target: string, args: unknown[]): Process {
  const p = new Process({ target: T(target), args, daemon: true });
  p.start();
  return p;
}

// Waits until done[0] moves past `before` (read it before starting the work:
// a fast worker may finish before this is called).
async function doneAfter(done: Int32Array, before: number): Promise<void> {
  while (Atomics.load(done, 0) === before) {
    await Atomics.waitAsync(done, 0, before, 1000).value;
  }
}

async function bumpAndWait(go: Int32Array, done: Int32Array): Promise<void> {
  const before = Atomics.load(done, 0);
  Atomics.add(go, 0, 1);
  Atomics.notify(go, 0);
  await doneAfter(done, before);
}

// --- throughput: one producer worker → one consumer worker -----------------

const kBatch = 200_000;
const small = { go: flag(), done: flag(), q: new Queue() };
daemon("benchProduce", [small.q, small.go, kBatch]);
daemon("benchConsume", [small.q, small.done, kBatch]);

Deno.bench({
  name: `Queue: ${kBatch} small objects, producer worker → consumer worker`,
  group: "throughput",
  baseline: true,
  n: 10,
  warmup: 2,
  async fn() {
    await bumpAndWait(small.go, small.done);
  },
});

const mainToWorker = { done: flag(), q: new Queue() };
daemon("benchConsume", [mainToWorker.q, mainToWorker.done, kBatch]);

Deno.bench({
  name: `Queue: ${kBatch} small objects, main putSync → consumer worker`,
  group: "throughput",
  n: 10,
  warmup: 2,
  async fn() {
    const before = Atomics.load(mainToWorker.done, 0);
    for (let i = 0; i < kBatch; i++) {
      mainToWorker.q.putSync({ id: i, name: "item" });
    }
    await doneAfter(mainToWorker.done, before);
  },
});

const postWorker = new Worker(
  `data:application/javascript,let n=0;onmessage=()=>{if(++n===${kBatch}){n=0;postMessage(0)}}`,
  { type: "module" },
);
Deno.bench({
  name: `postMessage: ${kBatch} small objects, main → worker (no library)`,
  group: "throughput",
  n: 10,
  warmup: 2,
  async fn() {
    const done = new Promise((r) => postWorker.onmessage = r);
    for (let i = 0; i < kBatch; i++) {
      postWorker.postMessage({ id: i, name: "item" });
    }
    await done;
  },
});

// --- latency: Pipe round trips --------------------------------------------

const kTrips = 20_000;
const [pingA, pingB] = Pipe();
const ping = { go: flag(), done: flag() };
daemon("benchPing", [pingA, ping.go, ping.done, kTrips]);
daemon("echo", [pingB]);

Deno.bench({
  name: `Pipe: ${kTrips} round trips, worker recvSync ⇄ worker recvSync`,
  group: "round trip",
  baseline: true,
  n: 10,
  warmup: 2,
  async fn() {
    await bumpAndWait(ping.go, ping.done);
  },
});

const [mainEnd, echoEnd] = Pipe();
daemon("echo", [echoEnd]);

Deno.bench({
  name: `Pipe: ${kTrips} round trips, main await recv() ⇄ worker recvSync`,
  group: "round trip",
  n: 10,
  warmup: 2,
  async fn() {
    for (let i = 0; i < kTrips; i++) {
      mainEnd.send(i);
      await mainEnd.recv();
    }
  },
});

Deno.bench({
  name: `Pipe: ${kTrips} round trips, main recvSync ⇄ worker recvSync`,
  group: "round trip",
  n: 10,
  warmup: 2,
  fn() {
    for (let i = 0; i < kTrips; i++) {
      mainEnd.send(i);
      mainEnd.recvSync();
    }
  },
});

const echoWorker = new Worker(
  "data:application/javascript,onmessage=(e)=>postMessage(e.data)",
  { type: "module" },
);
Deno.bench({
  name: `postMessage: ${kTrips / 10} round trips main ⇄ worker (no library)`,
  group: "round trip",
  n: 10,
  warmup: 2,
  async fn() {
    for (let i = 0; i < kTrips / 10; i++) {
      const reply = new Promise((r) => echoWorker.onmessage = r);
      echoWorker.postMessage(i);
      await reply;
    }
  },
});

// --- a 3840×2160 RGBA frame ---------------------------------------------

const frame = new Uint8Array(3840 * 2160 * 4).map((_, i) => i & 0xff);
const frames = { done: flag(), q: new Queue() };
daemon("benchConsume", [frames.q, frames.done, 1]);

Deno.bench({
  name: "Queue: one 3840×2160×4 frame (33 MB), main → worker getSync",
  group: "4K frame",
  baseline: true,
  n: 30,
  warmup: 3,
  async fn() {
    const before = Atomics.load(frames.done, 0);
    await frames.q.put(frame);
    await doneAfter(frames.done, before);
  },
});

const frameWorker = new Worker(
  "data:application/javascript,onmessage=()=>postMessage(0)",
  { type: "module" },
);
Deno.bench({
  name: "postMessage: the same frame, structured clone (no library)",
  group: "4K frame",
  n: 30,
  warmup: 3,
  async fn() {
    const reply = new Promise((r) => frameWorker.onmessage = r);
    frameWorker.postMessage(frame);
    await reply;
  },
});

// --- codecs: encode + decode of one message, in one thread -----------------

const smallObject = { id: 1, name: "item", values: [1, 2, 3] };
const richObject = {
  when: new Date(0),
  tags: new Set(["a", "b"]),
  index: new Map([["k", 1n]]),
  data: new Float64Array([1.5, 2.5]),
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sharedBytes = new Uint8Array(new SharedArrayBuffer(1 << 16));
const channel = new MessageChannel();

for (const [label, value] of [["small", smallObject], ["rich", richObject]]) {
  const group = `codec: ${label} object`;
  if (label === "small") {
    Deno.bench({
      name: "JSON.stringify + encodeInto SAB + copy out + decode + JSON.parse",
      group,
      fn() {
        const { written } = encoder.encodeInto(
          JSON.stringify(value),
          sharedBytes,
        );
        JSON.parse(decoder.decode(sharedBytes.slice(0, written)));
      },
    });
  }
  Deno.bench({
    name: "encodeValue + decodeValue (the chosen mix)",
    group,
    baseline: true,
    fn() {
      const { tag, bytes } = encodeValue(value, "item", "put item");
      sharedBytes.set(bytes);
      const copy = sharedBytes.slice(0, bytes.length);
      decodeValue(tag, needsFreshBytes(tag) ? copy : copy);
    },
  });
  Deno.bench({
    name: "node:v8 serialize + copy + deserialize",
    group,
    fn() {
      const bytes = serialize(value);
      sharedBytes.set(bytes);
      deserialize(sharedBytes.slice(0, bytes.length));
    },
  });
  Deno.bench({
    name: "structuredClone (no bytes: lower bound of postMessage)",
    group,
    fn() {
      structuredClone(value);
    },
  });
  Deno.bench({
    name: "MessageChannel post + receive (same thread)",
    group,
    async fn() {
      const got = new Promise((r) => channel.port2.onmessage = r);
      channel.port1.postMessage(value);
      await got;
    },
  });
}
