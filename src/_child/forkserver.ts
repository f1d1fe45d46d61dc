// The "forkserver" start method (see ./start_method.ts): CPython's
// forkserver keeps a clean process that forks each child; a Web Worker
// cannot fork, so the analog keeps a few fresh workers started ahead, in
// idle time, and hands each out once. What makes a worker slow to start
// (creating the isolate, loading the library and the user's modules) is
// then off the path that `start()` and a pool's first task wait on.
//
//  launch(child)            profile = entry + permissions (fixed when a
//    │                      worker is created, so warm workers are per
//    │                      profile, as DESIGN.md says)
//    ├─ a warm worker that can load the child's modules?
//    │    yes: {t:"activate", missing modules, the child's first
//    │         message}, and a notify of the block it waits on (it idles
//    │         in Atomics.wait, off its event loop: ./warm.ts) → it
//    │         becomes the child
//    │    no:  spawn it cold (./spawn.ts), exactly as "spawn" does
//    └─ refill the profile to its size once no child has started for
//       kQuietMs, one worker per event-loop turn (new Worker() blocks this
//       thread ~15 ms, more on a busy machine: refilling while children
//       start or a pool warms up would delay exactly what the warm workers
//       are for); warm workers are unreferenced, so they never keep the
//       program alive
//
// A warm worker statically imports the library's child entry, the main
// module and the preload list (setForkserverPreload), plus the modules of
// the profile's first child: with the parent's permissions, as a spawned
// child's static imports. Modules it lacks it imports when taken, under its
// own permissions; a worker with narrower permissions than the program is
// taken only when it lacks none. A profile whose warm worker fails before
// it is taken (a main module without its guard, say) is not warmed again:
// its children start cold and report the failure the usual way.
//
// Tier 4 (child start-up).

import type { WorkerPermissions } from "../_core/permissions.ts";
import type {
  ActivateMessage,
  ExitMessage,
  PrimeMessage,
  WarmMessage,
} from "../_wire/protocol.ts";
import {
  kWarmIdle,
  kWarmState,
  kWarmStop,
  kWarmTaken,
} from "../_wire/layouts.ts";
import {
  type ChildLaunch,
  type ChildPort,
  registerStrategy,
  type StartStrategy,
} from "./start_method.ts";
import {
  assertReadable,
  createWorker,
  entrySource,
  setRef,
  spawnStrategy,
  wireWorker,
} from "./spawn.ts";

const warmEntry = new URL("./warm.ts", import.meta.url).href;
/** How long no child of a profile must start before it is refilled. */
const kQuietMs = 100;

/** One pre-started worker. */
interface Warm {
  worker: Worker;
  /** Modules its entry imported. */
  modules: Set<string>;
  /** Its modules are imported and it idles (it sent {t:"warm"}). */
  ready: boolean;
  /** The block it waits on once ready (src/_wire/layouts.ts, kWarm*). */
  state?: Int32Array;
}

/** Warm workers of one entry and permission set. */
interface Profile {
  entry: string;
  permissions?: WorkerPermissions;
  /** What each of its warm workers imports up front. */
  modules: string[];
  /** The modules of the child that made it (modules holds them too). */
  own: string[];
  warm: Warm[];
  /** A warm worker failed before it was taken: start cold from now on. */
  failed: boolean;
  /** The refill timer, while one runs. */
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Most permission sets that keep warm workers: a program that gives each
 * child its own (a read list per input file, say) would otherwise keep
 * cpuCount() idle workers (~14 MB each) for every one, for good.
 */
const kMaxProfiles = 4;
// In order of use, the least recently used first.
const profiles = new Map<string, Profile>();
let preload: string[] = [];
let size: number | undefined;

/** How many warm workers each profile keeps (by default, one per core). */
export function warmSize(): number {
  return size ?? Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * Sets what warm workers import up front (CPython's
 * `set_forkserver_preload`) and, optionally, how many each profile keeps.
 * Applies to workers started from now on.
 */
export function configureForkserver(
  modules: string[],
  warm: number | undefined,
): void {
  preload = [...modules];
  if (warm !== undefined) size = warm;
  for (const profile of profiles.values()) {
    profile.modules = profileModules(profile.own);
    // Worth a try again: the old list may be what failed.
    profile.failed = false;
  }
}

function profileModules(own: string[]): string[] {
  return [...new Set([...mainModule(), ...preload, ...own])];
}

// Ends a profile's warm workers and refill, and forgets it.
function forget(key: string, profile: Profile): void {
  clearTimeout(profile.timer);
  profile.timer = undefined;
  for (const warm of profile.warm) end(warm);
  profile.warm = [];
  profiles.delete(key);
}

// Moves a waiting warm worker on: taken for a child, or to end. Only once:
// a worker already woken is past its wait.
function wake(warm: Warm, to: typeof kWarmTaken | typeof kWarmStop): void {
  const state = warm.state;
  if (state === undefined) return;
  if (Atomics.compareExchange(state, kWarmState, kWarmIdle, to) === kWarmIdle) {
    Atomics.notify(state, kWarmState);
  }
}

// Ends a warm worker: terminate() alone would leave a waiting one's thread
// blocked for good, so it is woken to end first.
function end(warm: Warm): void {
  wake(warm, kWarmStop);
  warm.worker.terminate();
}

/** Ends every warm worker and refill (tests, and a program's own cleanup). */
export function stopForkserver(): void {
  for (const [key, profile] of profiles) forget(key, profile);
  wakeWaiters();
}

/** How many permission sets keep warm workers now (tests). */
export function warmProfiles(): number {
  return profiles.size;
}

/** Children started from a warm worker, and cold (tests, benchmarks). */
export const forkserverCounters = { warm: 0, cold: 0 };

let onReady: (() => void)[] = [];

function wakeWaiters(): void {
  const waiting = onReady;
  onReady = [];
  for (const resolve of waiting) resolve();
}

// No profile can warm a worker any more (each failed once).
function allFailed(): boolean {
  for (const profile of profiles.values()) if (!profile.failed) return false;
  return true;
}

/**
 * Resolves once a warm worker is ready (at once when one is), or once no
 * profile can warm one any more (each failed, as for a main module without
 * its guard): tests and benchmarks wait on it instead of on time. Warm workers and their refills
 * keep no program alive, so this wait holds the event loop open itself.
 */
export function warmReady(): Promise<void> {
  for (const profile of profiles.values()) {
    if (profile.warm.some((warm) => warm.ready)) return Promise.resolve();
  }
  if (profiles.size > 0 && allFailed()) return Promise.resolve();
  const { promise, resolve } = Promise.withResolvers<void>();
  const keepAlive = setInterval(() => {}, 1000);
  onReady.push(() => {
    clearInterval(keepAlive);
    resolve();
  });
  return promise;
}

// The program's main module, where a worker can import it: most targets
// live there or in its static imports.
function mainModule(): string[] {
  const main = Deno.mainModule;
  return /^(file|https?):.*\.[cm]?[jt]sx?$/.test(main) ? [main] : [];
}

function profileOf(launch: ChildLaunch): Profile {
  const key = JSON.stringify([launch.entry, launch.permissions ?? "inherit"]);
  let profile = profiles.get(key);
  if (profile === undefined) {
    profile = {
      entry: launch.entry,
      permissions: launch.permissions,
      modules: profileModules(launch.modules),
      own: launch.modules,
      warm: [],
      failed: false,
    };
    const [oldest] = profiles;
    if (profiles.size >= kMaxProfiles) forget(...oldest);
  } else profiles.delete(key);
  profiles.set(key, profile);
  return profile;
}

// Whether the worker's own permissions let it import modules when taken.
function importsFreely(permissions: WorkerPermissions | undefined): boolean {
  return permissions === undefined || permissions === "inherit";
}

// Takes a ready warm worker that can become this child, if there is one.
function take(profile: Profile, launch: ChildLaunch): [Warm, string[]] | null {
  for (let i = 0; i < profile.warm.length; i++) {
    const warm = profile.warm[i];
    if (!warm.ready) continue;
    const missing = launch.modules.filter((url) => !warm.modules.has(url));
    if (missing.length > 0 && !importsFreely(profile.permissions)) return null;
    for (const url of missing) assertReadable(url, launch.what);
    profile.warm.splice(i, 1);
    return [warm, missing];
  }
  return null;
}

function drop(profile: Profile, warm: Warm): void {
  const i = profile.warm.indexOf(warm);
  if (i < 0) return;
  profile.warm.splice(i, 1);
  profile.failed = true;
  end(warm);
  if (allFailed()) wakeWaiters();
}

// Starts one warm worker for the profile.
function warmUp(profile: Profile): void {
  const modules = [profile.entry, ...profile.modules];
  const source = entrySource(
    { head: [warmEntry, profile.entry], modules: profile.modules },
    profile.permissions,
    ([warm, entry], table) => `${warm}.warmMain(${entry}.main, ${table});`,
  );
  const worker = createWorker(
    source,
    {
      name: "ForkServer",
      modules: [warmEntry, ...modules],
      permissions: profile.permissions,
    },
    "start forkserver worker",
  );
  setRef(worker, false);
  const warm: Warm = { worker, modules: new Set(modules), ready: false };
  worker.onmessage = (event: MessageEvent<WarmMessage | ExitMessage>) => {
    if (event.data.t !== "warm") return drop(profile, warm);
    warm.state = new Int32Array(event.data.state);
    const prime: PrimeMessage = { t: "prime" };
    worker.postMessage(prime);
    warm.ready = true;
    wakeWaiters();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    drop(profile, warm);
  };
  profile.warm.push(warm);
}

// Refills the profile once its children have stopped starting for a while
// (every launch puts it off again), one worker per event-loop turn.
function refill(profile: Profile, delay = kQuietMs): void {
  clearTimeout(profile.timer);
  const step = () => {
    profile.timer = undefined;
    if (profile.failed || profile.warm.length >= warmSize()) return;
    try {
      warmUp(profile);
    } catch {
      // Its children start cold, and show the reason themselves.
      profile.failed = true;
      if (allFailed()) wakeWaiters();
      return;
    }
    refill(profile, 0);
  };
  const timer = setTimeout(step, delay);
  Deno.unrefTimer(timer as unknown as number);
  profile.timer = timer;
}

/**
 * "forkserver": a warm worker becomes the child when one is ready;
 * otherwise the child is spawned cold. Either way the profile is refilled.
 */
export const forkserverStrategy: StartStrategy = {
  launch(options: ChildLaunch): ChildPort {
    const profile = profileOf(options);
    const taken = profile.failed ? null : take(profile, options);
    refill(profile);
    if (taken === null) {
      forkserverCounters.cold++;
      return spawnStrategy.launch(options);
    }
    forkserverCounters.warm++;
    const [warm, missing] = taken;
    // Referenced again, as a freshly spawned worker is: from here on its
    // child's owner decides (a daemonic or finished child lets go).
    setRef(warm.worker, true);
    const port = wireWorker(warm.worker, options);
    let activated = false;
    return {
      ...port,
      // The child's first message (the handshake's init, posted right
      // after launch) travels with the activation: the woken thread then
      // has one message to dispatch, not two (~0.25 ms each).
      postMessage(message, transfer) {
        if (activated) return port.postMessage(message, transfer);
        activated = true;
        const activate: ActivateMessage = {
          t: "activate",
          modules: missing,
          first: message,
        };
        try {
          port.postMessage(activate, transfer);
        } finally {
          wake(warm, kWarmTaken);
        }
      },
      terminate(signal) {
        wake(warm, kWarmStop);
        port.terminate(signal);
      },
    };
  },
};

registerStrategy("forkserver", forkserverStrategy);
