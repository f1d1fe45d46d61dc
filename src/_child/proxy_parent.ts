// The parent's side of the shared objects of a "subprocess" child
// (./subprocess.ts), served as CPython's Manager serves its proxies.
//
//  child (OS process)            parent, main thread           proxy host (Worker)
//  proxy.acquire() ── frame ──▶  ProxyRelay.call() ── post ──▶  lock.acquire()
//  (stderr)                                                     (the real Lock)
//  reply ◀── frame (stdin) ───── relay ◀──────────── post ───── {v} or {e}
//
// An OS process shares no memory with its parent, and Deno 2.9.6 has no
// mmap to map the same pages into both, so a shared object cannot cross as
// itself. It crosses as a placeholder (its kind, an id, and the facts that
// never change: a queue's maxsize, an array's length), and the child builds
// a proxy of it (./proxies.ts). The real object goes to one "proxy host"
// Web Worker per child, started on the first shared object that child
// receives: the host has a pid of its own, so RLock and Condition ownership
// is per subprocess child as it is per worker child, and it runs every call
// with the awaited form, so one child's concurrent calls never block each
// other. The host ends with the child and releases nothing for it: a Lock a
// killed child held stays held, as in CPython; only the pipe ends it held
// are closed, as the OS closes a dead process's descriptors.
//
// Tier 4 (child start-up).

import { isFormTag, kPlainTag, kTag } from "../_core/forms.ts";
import { nextPid, state } from "../_core/state.ts";
import { endRelay, relayMemory } from "../_core/relayed.ts";
import { isPlainObject } from "../_core/rebuild.ts";
import { claimLife, endLife, kNoLife } from "../_core/lives.ts";
import { createWorker, setRef } from "./spawn.ts";

/** The tag of a placeholder (revived by ./proxies.ts in the child). */
export const kProxyTag = "@dmp/proxy";

type Descriptor = Record<string, unknown>;
type Facts = (
  d: Descriptor,
  nested: (d: Descriptor) => unknown,
) => Record<string, unknown>;

const kBytes: Record<string, number> = {
  c: 1,
  b: 1,
  B: 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  f: 4,
  l: 8,
  L: 8,
  q: 8,
  Q: 8,
  d: 8,
};

const none: Facts = () => ({});
const lockOf: Facts = (d, nested) => ({
  code: d.code,
  lock: d.lock === null ? null : nested(d.lock as Descriptor),
});

// What the child's proxy of each kind needs to know without asking.
const kFacts: Record<string, Facts> = {
  Lock: none,
  RLock: none,
  Event: none,
  Condition: none,
  SimpleQueue: none,
  Semaphore: (d) => ({ bounded: d.bounded }),
  Barrier: (d) => ({ parties: d.parties }),
  Queue: (d) => ({ maxsize: d.maxsize }),
  JoinableQueue: (d) => ({ maxsize: d.maxsize }),
  Value: lockOf,
  SharedArray: (d, nested) => ({
    ...lockOf(d, nested),
    length: (d.buffer as SharedArrayBuffer).byteLength /
      kBytes[d.code as string],
  }),
  // End 0 writes ring r01 (absent in a one-way pipe), end 1 reads it.
  Connection: (d) => ({
    readable: d.end === 0 || d.r01 !== null,
    writable: d.end === 1 || d.r01 !== null,
  }),
};

/** Whether objects of reviver tag `tag` can be served to a subprocess child. */
export function isProxyable(tag: string): boolean {
  return Object.hasOwn(kFacts, tag);
}

// Past this depth a cycle is possible (structured clone keeps cycles): from
// there on, each object is walked once, as src/reduction.ts does.
const kDeep = 100;

/**
 * `message` with each shared object's descriptor (src/reduction.ts)
 * replaced by a placeholder; `adopt` is given each descriptor and returns
 * its id. Returns `message` itself when it holds none.
 */
export function toPlaceholders(
  message: unknown,
  adopt: (descriptor: Descriptor) => number,
): unknown {
  const seen = new Set<object>();
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value !== "object" || value === null) return value;
    if (depth > kDeep) {
      if (seen.has(value)) return value;
      seen.add(value);
    }
    const next = (item: unknown) => walk(item, depth + 1);
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        const changed = next(item);
        if (changed !== item) (out ??= value.slice())[i] = changed;
      }
      return out ?? value;
    }
    if (value instanceof Map) {
      let changed = false;
      const out = new Map();
      for (const [k, v] of value) {
        const [rk, rv] = [next(k), next(v)];
        changed ||= rk !== k || rv !== v;
        out.set(rk, rv);
      }
      return changed ? out : value;
    }
    if (value instanceof Set) {
      const items = [...value];
      const out = items.map(next);
      return out.some((item, i) => item !== items[i]) ? new Set(out) : value;
    }
    if (!isPlainObject(value)) return value;
    const tag = value[kTag];
    if (tag === kPlainTag) {
      // The caller's object with a key named kTag: data, not a descriptor.
      const data = { ...value.data as Descriptor };
      for (const key of Object.keys(data)) {
        if (key !== kTag) data[key] = next(data[key]);
      }
      return { ...value, data };
    }
    if (typeof tag === "string" && !isFormTag(tag) && isProxyable(tag)) {
      return {
        [kTag]: kProxyTag,
        kind: tag,
        id: adopt(value),
        ...kFacts[tag](value, next as (d: Descriptor) => unknown),
      };
    }
    let out: Descriptor | undefined;
    for (const key of Object.keys(value)) {
      const item = value[key];
      const changed = next(item);
      if (changed !== item) (out ??= { ...value })[key] = changed;
    }
    return out ?? value;
  };
  return walk(message, 0);
}

// Marks the memory of a shared object (and of those inside it, a
// Condition's lock) as used by a subprocess child.
function relayBuffers(descriptor: Descriptor, host: number): void {
  for (const field of Object.values(descriptor)) {
    if (field instanceof SharedArrayBuffer) relayMemory(field, host);
    else if (
      typeof field === "object" && field !== null && isPlainObject(field) &&
      typeof field[kTag] === "string"
    ) relayBuffers(field, host);
  }
}

const hostUrl = new URL("./proxy_host.ts", import.meta.url).href;

// The host's entry: it keeps what arrives while its module loads (Deno
// drops messages that find no handler), and imports it dynamically, which
// a worker with its parent's permissions may, and which `deno test` does
// not type-check again (a computed specifier: Deno analyses a literal one
// as a static import).
function hostSource(): string {
  return `const early = [];
self.onmessage = (event) => early.push(event);
const url = ${JSON.stringify(hostUrl)};
(await import(url)).main(early);`;
}

/**
 * The shared objects of one subprocess child: their host worker and the
 * relay of calls and replies between it and the child.
 */
export class ProxyRelay {
  #host: Worker | undefined;
  // The host's pid and life word (src/_core/lives.ts).
  #pid = 0;
  #life = kNoLife;
  #next = 1;
  readonly #name: string;
  readonly #what: string;
  readonly #reply: (reply: unknown, sync: boolean) => void;

  /**
   * @param name The child's name (names its host).
   * @param what The operation, for error messages ("start process").
   * @param reply Sends a reply frame to the child.
   */
  constructor(
    name: string,
    what: string,
    reply: (reply: unknown, sync: boolean) => void,
  ) {
    this.#name = name;
    this.#what = what;
    this.#reply = reply;
  }

  /**
   * `message` as the child receives it, and whether it is the first to
   * carry shared objects (the child then starts reading its replies).
   */
  translate(message: unknown): { message: unknown; first: boolean } {
    const objects: [number, Descriptor][] = [];
    const out = toPlaceholders(message, (descriptor) => {
      const id = this.#next++;
      objects.push([id, descriptor]);
      return id;
    });
    if (objects.length === 0) return { message, first: false };
    const first = this.#host === undefined;
    const host = this.#start();
    for (const [, descriptor] of objects) relayBuffers(descriptor, this.#pid);
    host.postMessage({ t: "adopt", objects });
    return { message: out, first };
  }

  /** A call frame from the child, for the host. */
  call(frame: unknown): void {
    this.#host?.postMessage(frame);
  }

  /**
   * The child has ended: so does its host, once its pipe ends are closed.
   * The host's waits on a Condition end with it, unanswered: its life word
   * is freed first, so that notify() passes over them.
   */
  end(): void {
    endLife(this.#life, this.#pid);
    this.#host?.postMessage({ t: "end" });
    endRelay(this.#pid);
  }

  #start(): Worker {
    if (this.#host !== undefined) return this.#host;
    const s = state();
    const host = createWorker(hostSource(), {
      name: `${this.#name} (shared objects)`,
      modules: [hostUrl],
    }, this.#what);
    host.onmessage = (event: MessageEvent) => {
      const reply = event.data as { s?: boolean };
      this.#reply(reply, reply.s === true);
    };
    host.onerror = (event) => {
      // Unhandled, an error event would end this program.
      event.preventDefault();
      console.error(`Shared objects of ${this.#name}: ${event.message}`);
    };
    this.#pid = nextPid();
    this.#life = claimLife(this.#pid);
    host.postMessage({
      t: "init",
      name: `${this.#name} (shared objects)`,
      pid: this.#pid,
      life: this.#life,
      pidCounter: s.pidCounter.buffer,
      shared: s.shared,
    });
    // The child keeps this program alive while it runs; its host need not.
    setRef(host, false);
    return this.#host = host;
  }
}
