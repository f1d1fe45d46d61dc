// The initializer of an agent's local pool workers: registers the modules
// the agent serves, so that a worker finds the classes of its results and
// thrown errors by identity. A worker loads a target given by URL without
// registering it, so an error subclass thrown by a task whose arguments
// held no class of its module went back as its nearest built-in base.
//
// Tier 8: the cluster export only (imported by the agent's workers).

import { registerNamespaces } from "../_core/classes.ts";
import { apply, type Fn } from "../_engine/apply_task.ts";
import { TaskMode } from "../_wire/protocol.ts";

/**
 * Imports and registers each module (one a worker may not import, under
 * its permissions, is left out: its classes then travel by name only).
 *
 * @param urls The URLs of the modules the agent serves.
 */
export async function registerServed(urls: string[]): Promise<void> {
  for (const url of urls) {
    try {
      registerNamespaces({ [url]: await import(url) });
    } catch { /* not importable here: see above */ }
  }
}

/**
 * Runs a chunk as the local pool's starmap does (one call at a time, each
 * returned promise or other thenable awaited), and says how long it took in this worker:
 * the client sizes its next chunks of the function by that. Timed here,
 * not on the agent: there a chunk's time also holds the thread hops, which
 * on a busy host are most of it (a 42-item chunk of squares took 2–12 ms
 * from the agent's side, and its map looked too dear to merge).
 *
 * @param url A module the agent serves (checked by the agent).
 * @param name Its export.
 * @param lists The argument list of each call.
 * @returns The results, and the ms the calls took.
 */
export async function runChunk(
  url: string,
  name: string,
  lists: unknown[][],
): Promise<[unknown[], number]> {
  const fn = (await import(url) as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot run the target as the function '${name}' must be exported from its module: it is not exported from ${url}`,
    );
  }
  const start = performance.now();
  const out = await apply(fn as Fn, TaskMode.Starmap, lists) as unknown[];
  return [out, performance.now() - start];
}
