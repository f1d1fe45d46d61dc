import { deepEqual, equal } from "node:assert/strict";
import { Channel, kHead, kTail } from "../src/_memory/channel.ts";
import { text } from "./fixtures/channel_text.ts";

/** A ring whose data area holds `capacity` bytes. */
function ring(capacity: number): Channel {
  return new Channel(Channel.allocate(capacity));
}

Deno.test("Channel: messages come back in order, all at once", () => {
  const channel = ring(1024);
  equal(channel.hasMessage(), false);
  equal(channel.tryReadAll(), undefined);
  equal(channel.tryWrite(JSON.stringify([1, "a"])), true);
  equal(channel.tryWrite(JSON.stringify({ b: [true, null] })), true);
  equal(channel.tryWrite(JSON.stringify("é€😀")), true);
  equal(channel.hasMessage(), true);
  deepEqual(channel.tryReadAll(), [[1, "a"], { b: [true, null] }, "é€😀"]);
  equal(channel.hasMessage(), false);
  equal(channel.tryReadAll(), undefined);
});

Deno.test("Channel: a message larger than a quarter of the ring is refused", () => {
  const channel = ring(64);
  equal(channel.maxMessage, 16);
  equal(channel.tryWrite(JSON.stringify("x".repeat(13))), true); // 15 + ","
  equal(channel.tryWrite(JSON.stringify("x".repeat(14))), false);
  // Counted in UTF-8 bytes, not UTF-16 units: "€" takes three.
  equal(channel.tryWrite(JSON.stringify("€".repeat(5))), false);
  deepEqual(channel.tryReadAll(), ["x".repeat(13)]);
});

Deno.test("Channel: a full ring refuses writes until the reader catches up", () => {
  const channel = ring(64);
  const message = JSON.stringify("x".repeat(13)); // 16 bytes with its comma
  for (let i = 0; i < 4; i++) equal(channel.tryWrite(message), true);
  equal(channel.tryWrite("1"), false);
  equal(channel.tryReadAll()!.length, 4);
  equal(channel.tryWrite("1"), true);
  deepEqual(channel.tryReadAll(), [1]);
});

Deno.test("Channel: messages that wrap around the end arrive intact", () => {
  const channel = ring(64);
  const written: unknown[] = [];
  const read: unknown[] = [];
  // Sizes that do not divide the ring, so messages keep landing across its
  // end (and skip it, leaving padding); reads take one or several at once.
  for (let i = 0; i < 500; i++) {
    const message = [i % 100, "é".repeat(i % 3)];
    if (!channel.tryWrite(JSON.stringify(message))) {
      read.push(...channel.tryReadAll()!);
      equal(channel.tryWrite(JSON.stringify(message)), true);
    }
    written.push(message);
    if (i % 7 === 0) read.push(...channel.tryReadAll()!);
  }
  read.push(...(channel.tryReadAll() ?? []));
  deepEqual(read, written);
});

Deno.test("Channel: positions past 2^32 wrap without losing messages", () => {
  const channel = ring(64);
  // Start both counters just below the uint32 limit.
  channel.header[kHead] = channel.header[kTail] = -40;
  const read: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    equal(channel.tryWrite(JSON.stringify(i)), true);
    equal(channel.tryWrite(JSON.stringify(`#${i}`)), true);
    read.push(...channel.tryReadAll()!);
  }
  deepEqual(read, Array.from({ length: 20 }, (_, i) => [i, `#${i}`]).flat());
});

Deno.test("Channel: 100 000 messages from this thread to a worker, in order", async () => {
  const count = 100_000;
  const channel = ring(4096);
  const worker = new Worker(
    new URL("./fixtures/channel_reader.ts", import.meta.url),
    { type: "module" },
  );
  try {
    const done = new Promise<{ seen?: number; error?: string }>((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
    });
    worker.postMessage([channel.buffer, count]);
    for (let i = 0; i < count;) {
      if (channel.tryWrite(JSON.stringify([i, text(i)]))) {
        i++;
        continue;
      }
      // Full: wake the reader, and wait for it to move its head.
      Atomics.notify(channel.header, kTail);
      const head = Atomics.load(channel.header, kHead);
      Atomics.wait(channel.header, kHead, head, 1);
    }
    Atomics.notify(channel.header, kTail);
    deepEqual(await done, { seen: count });
  } finally {
    worker.terminate();
  }
});
