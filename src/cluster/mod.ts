/**
 * The same Pool over a cluster of hosts, on NATS JetStream: run
 * {@linkcode startAgent} (or `agent.ts` from the command line) on each
 * worker host, and {@linkcode ClusterPool.connect} on the client.
 *
 * Needs a NATS server with JetStream (`nats-server -js`). Delivery is
 * at-least-once: a task may run more than once when a host fails, but the
 * client yields each result exactly once.
 *
 * @example A client and an agent in one program (needs `nats-server -js` on localhost)
 * ```ts ignore
 * import { ClusterPool, startAgent } from "@dmp/multiprocessing/cluster";
 * import assert from "node:assert/strict";
 *
 * const agent = await startAgent({ servers: "127.0.0.1:4222", modules: ["./tasks.ts"], processes: 2 });
 * await using pool = await ClusterPool.connect({ servers: "127.0.0.1:4222" });
 * assert.deepEqual(await pool.map("./tasks.ts#square", [1, 2, 3]), [1, 4, 9]);
 * await agent.stop();
 * ```
 *
 * @module
 */

export {
  type Agent,
  type AgentOptions,
  type NatsOptions,
  startAgent,
} from "./agent.ts";
export {
  ClusterPool,
  type ClusterPoolOptions,
  type ClusterStats,
} from "./cluster_pool.ts";
// The library's own types that the cluster's signatures use.
export {
  AsyncResult,
  type CallArgs,
  type CallbackOptions,
  type ItemFunction,
  type TaskFunction,
  type TaskOptions,
  type TaskResult,
} from "../pool.ts";
export type { PermissionValue, Target, WorkerPermissions } from "../process.ts";
