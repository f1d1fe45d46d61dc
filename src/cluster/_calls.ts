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

/** A function reference, ready to travel (once its promise settles). */
export type FunctionRef = Promise<
  { module: string; name: string; hash: string }
>;

// Static import and re-export specifiers of a module's source; type-only
// imports are left out (erased, so not loaded: importing them would run them).
const kImport =
  /\b(?:import|export)\b(?!\s+type\b)[^"';]*?\bfrom\s*["']([^"']+)["']/g;

/**
 * Where `fn` is exported: the calling module itself, or a module it
 * imports (found by identity, as pickle finds a function by its module).
 * The modules are already loaded by the caller, so importing them again
 * runs nothing.
 */
async function definingModule(
  fn: unknown,
  caller: string,
): Promise<{ url: string; name: string } | undefined> {
  const exportOf = async (url: string) => {
    const namespace = await import(url) as Record<string, unknown>;
    const name = Object.keys(namespace).find((key) => namespace[key] === fn);
    return name === undefined ? undefined : { url, name };
  };
  const own = await exportOf(caller);
  if (own !== undefined || !caller.startsWith("file:")) return own;
  const source = await Deno.readTextFile(new URL(caller));
  for (const match of source.matchAll(kImport)) {
    if (!/^(\.{1,2}\/|file:|https?:|npm:|jsr:)/.test(match[1])) continue;
    const found = await exportOf(new URL(match[1], caller).href)
      .catch(() => undefined);
    if (found !== undefined) return found;
  }
  return undefined;
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
    const caller = callerUrl();
    const ref = targetRef(fn, caller, what);
    const resolved = (async () => {
      let { url, name } = ref;
      if (typeof fn === "function") {
        const found = await definingModule(fn, url);
        if (found === undefined) {
          throw new TypeError(
            `Cannot ${what} as 'fn' must be exported from its module or from a module it imports: current value is the function '${ref.name}' of ${url}`,
          );
        }
        ({ url, name } = found);
      }
      const module = moduleName(url, this.#root, what);
      let hash = this.#hashes.get(url);
      if (hash === undefined) {
        hash = hashModule(url);
        this.#hashes.set(url, hash);
      }
      return { module, name, hash: await hash };
    })();
    // Read by every call; an empty imap reads it never.
    resolved.catch(() => {});
    return resolved;
  }

  /** Submits one call: `fn(...args)`, or a chunk of argument lists. */
  async call(
    ref: FunctionRef,
    kind: TaskKind,
    args: unknown[],
    limits: TaskOptions = {},
  ): Promise<unknown> {
    const call: Call = { ...await ref, kind, args };
    return await this.client.submit(call, limits);
  }

  /** map and starmap: every chunk at once (within maxPending), in order. */
  async chunks<R>(
    ref: FunctionRef,
    lists: unknown[][],
    chunksize?: number,
  ): Promise<R[]> {
    checkPositiveInteger(chunksize, "chunksize", "map on the cluster");
    await ref; // a bad function fails even an empty map
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
      (chunk) => this.call(ref, "chunk", chunk.map((x) => [x])),
      { size: chunksize ?? 1, ahead, ordered },
    );
  }
}
