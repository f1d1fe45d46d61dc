// The calls behind ClusterPool's methods: a function becomes a reference
// that travels (module name, export name, source hash), and map, starmap
// and imap become chunks submitted through the client.
//
// Tier 8: the cluster export only.

import type { TaskOptions } from "../pool_options.ts";
import { callerUrl, targetRef } from "../_core/target.ts";
import { registerNamespaces } from "../_core/classes.ts";
import { checkPositiveInteger } from "../_core/validate.ts";
import { hashModule, moduleName } from "./_modules.ts";
import type { Call, ClusterClient } from "./_client.ts";
import type { TaskKind } from "./_protocol.ts";
import { lazyMap } from "./_lazy.ts";
import { ChunkPlanner } from "./_chunks.ts";
import { receiveError, receiveResult, sendArgs } from "./_values.ts";
import { RemoteError } from "../errors.ts";
import type { CallbackOptions } from "../async_result.ts";
import {
  checkAsyncOptions,
  checkTask,
  kAsyncTaskKeys,
  kMapAsyncKeys,
} from "../_engine/options.ts";
import { checkIterable, itemsOf } from "../_engine/inputs.ts";
import { TaskMode } from "../_wire/protocol.ts";
import { PayloadTooLarge } from "./_client.ts";

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
    if (!/^(\.{0,2}\/|file:|https?:|npm:|jsr:)/.test(match[1])) continue;
    const found = await exportOf(new URL(match[1], caller).href)
      .catch(() => undefined);
    if (found !== undefined) return found;
  }
  return undefined;
}

const kWhat = "run task on the cluster";

/**
 * applyAsync's options, checked (closed, callbacks that are functions) and
 * split into the task's limits and the AsyncResult's callbacks.
 *
 * @throws {TypeError} An unknown key or a callback that is no function.
 */
export function asyncOptions<R>(
  options: CallbackOptions<R> & TaskOptions,
  what: string,
): { limits: TaskOptions; callbacks: CallbackOptions<R> } {
  checkAsyncOptions(options, kAsyncTaskKeys, what);
  const { signal, timeout, ...callbacks } = options;
  return { limits: { signal, timeout }, callbacks };
}

/**
 * mapAsync's and starmapAsync's options, checked as the local pool's.
 *
 * @returns Their chunksize.
 * @throws {TypeError} An unknown key or a callback that is no function.
 */
export function mapAsyncChunksize<R>(
  options: { chunksize?: number } & CallbackOptions<R>,
  what: string,
): number | undefined {
  checkAsyncOptions(options, kMapAsyncKeys, what);
  checkPositiveInteger(options.chunksize, "chunksize", what);
  return options.chunksize;
}

// The main module is still running its top-level code until "load": an
// import of it then would wait for an imap that waits for the import.
let mainLoaded = false;
globalThis.addEventListener?.("load", () => mainLoaded = true);

/**
 * Registers the namespaces of `caller` and of the modules it imports, so
 * that their classes are found by identity. They are loaded already:
 * importing them again runs nothing (the main module only once loaded).
 */
function knownClasses(caller: string): Promise<void> {
  let known = knownCallers.get(caller);
  if (known === undefined) {
    known = (async () => {
      const urls = caller === Deno.mainModule && !mainLoaded ? [] : [caller];
      if (caller.startsWith("file:")) {
        const source = await Deno.readTextFile(new URL(caller));
        for (const match of source.matchAll(kImport)) {
          if (!/^(\.{0,2}\/|file:)/.test(match[1])) continue;
          const url = new URL(match[1], caller).href;
          if (url !== Deno.mainModule) urls.push(url);
        }
      }
      for (const url of urls) {
        const namespace = await import(url).catch(() => undefined);
        if (namespace !== undefined) registerNamespaces({ [url]: namespace });
      }
    })().catch(() => {});
    knownCallers.set(caller, known);
  }
  return known;
}
const knownCallers = new Map<string, Promise<void>>();

/** The calls of one ClusterPool. */
export class ClusterCalls {
  readonly client: ClusterClient;
  readonly #root: string;
  // Hashed once per module per pool: a module edited while a pool runs
  // keeps its first hash (and agents then refuse it as different).
  readonly #hashes = new Map<string, Promise<string>>();
  // Functions and URLs resolved before: the same wherever they are called
  // from, so the caller's stack (the costliest part) is read once.
  readonly #refs = new Map<unknown, FunctionRef>();
  readonly #chunks = new ChunkPlanner();
  // Calls made and not yet settled: a call waits for its function's
  // reference (and hash) before the client sees it, so join() must wait
  // for these, not only for the client's pending tasks.
  readonly #outstanding = new Set<Promise<unknown>>();

  constructor(client: ClusterClient, root: string) {
    this.client = client;
    this.#root = root;
  }

  /** Settles once every call made so far has settled. */
  async idle(): Promise<void> {
    while (this.#outstanding.size > 0) {
      await Promise.allSettled([...this.#outstanding]);
    }
    await this.client.idle();
  }

  #track<T>(call: Promise<T>): Promise<T> {
    this.#outstanding.add(call);
    const done = () => void this.#outstanding.delete(call);
    call.then(done, done);
    return call;
  }

  /**
   * Turns `fn` into a reference (the caller is the first module outside
   * the library on the stack, as for the local pool).
   *
   * @throws {TypeError} A function no module exports, or outside the root.
   */
  ref(fn: unknown, what: string): FunctionRef {
    // A string is relative to its caller: looked up every time.
    if (typeof fn === "string") return this.#resolve(fn, what);
    const key = fn instanceof URL ? `url:${fn.href}` : fn;
    let resolved = this.#refs.get(key);
    if (resolved === undefined) {
      resolved = this.#resolve(fn, what);
      this.#refs.set(key, resolved);
    }
    return resolved;
  }

  #resolve(fn: unknown, what: string): FunctionRef {
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
        hash = hashModule(url).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
          throw new TypeError(
            `Cannot ${what} as 'fn' must name a module that exists: current value is ${url}`,
          );
        });
        this.#hashes.set(url, hash);
      }
      return { module, name, hash: await hash };
    })();
    // Read by every call; an empty imap reads it never.
    resolved.catch(() => {});
    return resolved;
  }

  /**
   * Submits one call: `fn(...args)`, or a chunk of argument lists. The
   * arguments are reduced at once, while the caller is on the stack (a
   * class is looked for in the calling module).
   */
  call(
    ref: FunctionRef,
    kind: TaskKind,
    args: readonly unknown[],
    limits: TaskOptions = {},
  ): Promise<unknown> {
    let sent: unknown[];
    try {
      checkTask(args, limits, "run apply on the cluster");
      sent = sendArgs(args, this.#root, kWhat);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#track(this.#send(ref, kind, sent, limits));
  }

  async #send(
    ref: FunctionRef,
    kind: TaskKind,
    args: unknown[],
    limits: TaskOptions = {},
  ): Promise<unknown> {
    const call: Call = { ...await ref, kind, args };
    const result = await this.client.submit(call, limits);
    if (result.ok) {
      if (kind === "chunk" && typeof result.ms === "number") {
        this.#chunks.record(
          `${call.module}#${call.name}`,
          args.length,
          result.ms,
          result.bytes,
        );
      }
      return await receiveResult(result.value, this.#root);
    }
    const error = await receiveError(result.error, this.#root);
    if (result.tooLarge && kind === "chunk" && args.length > 1) {
      throw new PayloadTooLarge(error.message);
    }
    // The RemoteError cause says where it ran, as well as its stack. An
    // error of the agent's own (its pool's worker died) has none: its
    // stack is the agent's.
    if (error.cause === undefined) {
      Object.defineProperty(error, "cause", {
        value: new RemoteError(error.stack ?? String(error)),
        configurable: true,
        writable: true,
      });
    }
    if (error.cause instanceof RemoteError) {
      Object.assign(error.cause, { host: result.agent });
    }
    throw error;
  }

  /** map and starmap: every chunk at once (within maxPending), in order. */
  chunks<R>(
    ref: FunctionRef,
    iterable: unknown,
    chunksize: number | undefined,
    method: "map" | "starmap",
  ): Promise<R[]> {
    return this.#track(this.#chunksOf<R>(ref, iterable, chunksize, method));
  }

  async #chunksOf<R>(
    ref: FunctionRef,
    iterable: unknown,
    chunksize: number | undefined,
    method: "map" | "starmap",
  ): Promise<R[]> {
    const what = `${method} on the cluster`;
    checkPositiveInteger(chunksize, "chunksize", what);
    const mode = method === "map" ? TaskMode.Map : TaskMode.Starmap;
    const items = itemsOf(iterable, mode, what);
    const lists = mode === TaskMode.Map ? items.map((x) => [x]) : items;
    const sent = sendArgs(lists, this.#root, kWhat) as unknown[][];
    const { module, name } = await ref; // a bad function fails even an empty map
    const ends = this.#chunks.bounds(
      `${module}#${name}`,
      lists.length,
      this.client.processes,
      chunksize,
    );
    const calls: Promise<unknown[]>[] = [];
    let start = 0;
    for (const end of ends) {
      calls.push(this.#sendChunk(ref, sent.slice(start, end)));
      start = end;
    }
    // The first failure rejects; later ones are expected and read here.
    for (const call of calls) call.catch(() => {});
    return (await Promise.all(calls)).flat() as R[];
  }

  // One chunk; in halves when its message, or its results' message, is
  // larger than the server takes (a quick function's merged chunks are
  // sized by what earlier results measured, which later ones may outgrow).
  async #sendChunk(ref: FunctionRef, lists: unknown[]): Promise<unknown[]> {
    try {
      return await this.#send(ref, "chunk", lists) as unknown[];
    } catch (error) {
      if (!(error instanceof PayloadTooLarge) || lists.length < 2) throw error;
      const half = lists.length >> 1;
      const [first, second] = await Promise.all([
        this.#sendChunk(ref, lists.slice(0, half)),
        this.#sendChunk(ref, lists.slice(half)),
      ]);
      return first.concat(second);
    }
  }

  /**
   * imap and imapUnordered: a bounded number of chunks in flight. Its
   * checks, and `refOf()`'s error if any, come on the first next().
   */
  lazy<R>(
    refOf: () => FunctionRef,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    how: { chunksize: number | undefined; ordered: boolean },
  ): AsyncGenerator<R, void, undefined> {
    // Items come later, without the caller on the stack: its module's
    // classes (and those it imports) are found by identity instead.
    const caller = callerUrl();
    const known = caller === undefined ? undefined : knownClasses(caller);
    return this.#lazy(refOf, iterable, { ...how, known });
  }

  async *#lazy<R>(
    refOf: () => FunctionRef,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    how: {
      chunksize: number | undefined;
      ordered: boolean;
      known: Promise<unknown> | undefined;
    },
  ): AsyncGenerator<R, void, undefined> {
    const ref = refOf();
    const { chunksize, ordered, known } = how;
    checkPositiveInteger(chunksize, "chunksize", "imap on the cluster");
    checkIterable(iterable, "imap on the cluster");
    const ahead = Math.max(8, 2 * this.client.processes);
    yield* lazyMap<R>(
      iterable,
      async (chunk) => {
        await known;
        const sent = sendArgs(chunk.map((x) => [x]), this.#root, kWhat);
        return await this.#track(this.#sendChunk(ref, sent));
      },
      { size: chunksize ?? 1, ahead, ordered },
    );
  }
}

/**
 * `get()`'s value, or its error, for later: imap checks whether the pool
 * runs at the call (as Pool's) and reports it on the first next().
 */
export function deferred<T>(get: () => T): () => T {
  try {
    const value = get();
    return () => value;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}
