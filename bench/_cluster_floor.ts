// The raw JetStream worker of bench/cluster_bench.ts's floor, in its own OS
// process as an agent is: consumes the RAW work-queue stream, squares the
// items of each task, and publishes the result to the client with the
// task's ack subject, for the client to ack once it holds the result (the
// cluster's delivery guarantee, without the cluster). Ends when its stdin
// closes.
//
//   deno run -A bench/_cluster_floor.ts nats://127.0.0.1:4222

import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { deserialize, serialize } from "node:v8";

/** The stream, consumer and subjects the floor's client and worker share. */
export const kFloor = {
  stream: "RAW",
  consumer: "raw",
  tasks: "raw.tasks",
  results: "raw.results",
} as const;

if (import.meta.main) {
  const nc = await connect({ servers: Deno.args[0], noAsyncTraces: true });
  const consumer = await jetstream(nc).consumers.get(
    kFloor.stream,
    kFloor.consumer,
  );
  const messages = await consumer.consume({
    callback: (msg) => {
      const [id, items] = deserialize(msg.data) as [number, number[]];
      // The ack subject: nats.js has it as `reply`, outside its types.
      const ack = (msg as unknown as { reply: string }).reply;
      nc.publish(kFloor.results, serialize([id, items.map((x) => x * x), ack]));
    },
  });
  console.log("floor ready");
  for await (const _ of Deno.stdin.readable) { /* until the parent ends */ }
  await messages.close();
  await nc.close();
}
