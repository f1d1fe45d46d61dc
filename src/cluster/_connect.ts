// A client's way in: its options checked, the connection opened, the
// cluster's stream made sure of, and the live agents heard from.
//
// Tier 8: the cluster export only.

import { checkPositiveInteger } from "../_core/validate.ts";
import {
  checkOptions,
  type ClusterPoolOptions,
  ensureStream,
  kNatsKeys,
  open,
} from "./_nats.ts";
import { defaultRoot } from "./_modules.ts";
import { ClusterClient } from "./_client.ts";
import { namesOf } from "./_protocol.ts";

/**
 * Connects a client to the cluster `options` name.
 *
 * @returns The client, once the live agents have answered, and the root
 * its module paths are relative to.
 * @throws {TypeError} Bad options.
 * @throws {RangeError} A `maxPending` that is not a positive integer.
 * @throws {Error} (rejects) The server refused or could not be reached.
 */
export async function connectClient(
  options: ClusterPoolOptions,
): Promise<{ client: ClusterClient; root: string }> {
  const what = "connect to cluster";
  checkOptions(options, [...kNatsKeys, "cluster", "root", "maxPending"], what);
  const names = namesOf(options.cluster ?? "default", what);
  const maxPending = options.maxPending ?? 256;
  checkPositiveInteger(maxPending, "maxPending", what);
  const root = options.root ?? defaultRoot();
  const nc = await open(options, { name: "dmp-client", what });
  try {
    const jsm = await ensureStream(nc, names);
    const client = new ClusterClient(nc, jsm, names, maxPending);
    await client.discover();
    return { client, root };
  } catch (error) {
    await nc.close().catch(() => {});
    throw error;
  }
}
