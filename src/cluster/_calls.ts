// The calls behind ClusterPool's methods: a function becomes a reference
// that travels (module name, export name, source hash), and map, starmap
// and imap become chunks submitted through the client.
//
// Tier 8: the cluster export only.

import type { TaskOptions } from "../pool_options.ts";
import { callerUrl, targetRef } from "../_core/target.ts";
import { checkPositiveInteger } from "../_core/validate.ts";
import { hashModule, moduleName } from "./_modules.ts";
import type { Call, ClusterClient } from "./_client.ts";
import type { TaskKind } from "./_protocol.ts";
import { lazyMap } from "./_lazy.ts";

/** A function reference, ready to travel. */
export interface FunctionRef {
  module: string;
  name: string;
  hash: Promise<string>;
}

/** The calls of one ClusterPool. */
export class ClusterCalls {
  readonly client: ClusterClient;
  readonly #root: string;
  // Hashed once per module per pool: a module edited while a pool runs
  // keeps its first hash (and agents then refuse it as different).
  readonly #hashes = new Map<string, Promise<string>>();

  constructor(client: ClusterClient, root: string) {
    this.client = client;
    this.#root = root;
  }

  /**
   * Turns `fn` into a reference (the caller is the first module outside
   * the library on the stack, as for the local pool).
   *
   * @throws {TypeError} A function no module exports, or outside the root.
   */
  ref(fn: unknown, what: string): FunctionRef {
    const ref = targetRef(fn, callerUrl(), what);
    const module = moduleName(ref.url, this.#root, what);
    let hash = this.#hashes.get(ref.url);
    if (hash === undefined) {
      hash = hashModule(ref.url);
      this.#hashes.set(ref.url, hash);
    }
    return { module, name: ref.name, hash };
  }

  /** Submits one call: `fn(...args)`, or a chunk of argument lists. */
  async call(
    ref: FunctionRef,
    kind: TaskKind,
    args: unknown[],
    limits: TaskOptions = {},
  ): Promise<unknown> {
    const call: Call = {
      module: ref.module,
      hash: await ref.hash,
      name: ref.name,
      kind,
      args,
    };
    return await this.client.submit(call, limits);
  }

  /** map and starmap: every chunk at once (within maxPending), in order. */
  async chunks<R>(
    ref: FunctionRef,
    lists: unknown[][],
    chunksize?: number,
  ): Promise<R[]> {
    checkPositiveInteger(chunksize, "chunksize", "map on the cluster");
    const processes = Math.max(1, this.client.processes);
    const size = chunksize ??
      Math.max(1, Math.ceil(lists.length / (4 * processes)));
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < lists.length; i += size) {
      calls.push(this.call(ref, "chunk", lists.slice(i, i + size)));
    }
    // The first failure rejects; later ones are expected and read here.
    for (const call of calls) call.catch(() => {});
    return (await Promise.all(calls)).flat() as R[];
  }

  /** imap and imapUnordered: a bounded number of chunks in flight. */
  lazy<R>(
    ref: FunctionRef,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    chunksize: number | undefined,
    ordered: boolean,
  ): AsyncIterableIterator<R> {
    checkPositiveInteger(chunksize, "chunksize", "imap on the cluster");
    const ahead = Math.max(8, 2 * this.client.processes);
    return lazyMap<R>(
      iterable,
      chunksize ?? 1,
      ahead,
      ordered,
      (chunk) => this.call(ref, "chunk", chunk.map((x) => [x])),
    );
  }
}
