// Verdicts of tools/bench_claims.ts: whether a document's performance claim
// holds on this machine, decided from the measured figures alone. Pure
// functions, so the thresholds are tested (tests/bench_tools_test.ts) and
// stated in one place:
//
//   claim               holds when                         does not hold when
//   Pool speedup        efficiency at N workers ≥ 75 %      < 50 %
//   frame copy vs share Queue ≥ 10× slower than sharing     < 2× slower
//   start-up / tiny     cold Pool loses on the tiniest      cold Pool wins on the
//                       task and wins on a larger one       tiniest task
//   oversubscription    2×/4× cores gain ≤ 5 % throughput   gain > 15 %
//   sleep in parallel   every run < 1.5 × one sleep         ≥ 75 % of N sleeps
//   I/O: async vs procs async ≥ 2× faster than the Pool     async not faster
//
// Anything between is "inconclusive". A negative verdict measured while the
// machine was busy with other programs (load ≥ half its cores) is reported
// as "inconclusive" too, with the load in the reason: a claim cannot be said
// to fail here on figures that other programs slowed down.

/** Whether a claim holds on this machine. */
export type Verdict = "holds" | "does not hold here" | "inconclusive";

/** A verdict and the figures it rests on, in one sentence. */
export interface Judgement {
  readonly verdict: Verdict;
  readonly why: string;
}

/** What the machine was doing when the figures were taken. */
export interface Conditions {
  readonly cpus: number;
  /** 1-minute load average before the run, or null when unknown. */
  readonly load: number | null;
}

function pct(value: number): string {
  return `${Math.round(value * 100)} %`;
}

function times(value: number): string {
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}×`;
}

/** Softens a negative verdict taken on a busy machine. */
function onMachine(judgement: Judgement, conditions: Conditions): Judgement {
  const busy = conditions.load !== null &&
    conditions.load >= conditions.cpus / 2;
  if (judgement.verdict !== "does not hold here" || !busy) return judgement;
  return {
    verdict: "inconclusive",
    why: `${judgement.why}; but the machine was busy (load ${
      conditions.load!.toFixed(2)
    } on ${conditions.cpus} cores), so this may not be the library's doing`,
  };
}

function checkPositive(value: number, name: string, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot judge ${what} as '${name}' must be a finite number > 0: current value is ${value}`,
    );
  }
}

/** Pool(w).map time of the same CPU-bound items, for one worker count. */
export interface SpeedupPoint {
  readonly workers: number;
  readonly ms: number;
}

/**
 * 002: "a Pool processes CPU-bound items nearly N times faster than
 * sequential code on N cores".
 *
 * @param sequentialMs The same items run one after another in one thread.
 * @param points Pool timings; the one with `workers === conditions.cpus` decides.
 * @param conditions Cores and load.
 * @returns The verdict.
 * @throws {RangeError} For a non-positive time or no point at N workers.
 */
export function judgeSpeedup(
  sequentialMs: number,
  points: readonly SpeedupPoint[],
  conditions: Conditions,
): Judgement {
  checkPositive(sequentialMs, "sequentialMs", "speedup");
  for (const p of points) checkPositive(p.ms, "ms", "speedup");
  const n = conditions.cpus;
  const atN = points.find((p) => p.workers === n);
  if (atN === undefined) {
    throw new RangeError(
      `Cannot judge speedup as 'points' must include ${n} workers: current value has ${
        points.map((p) => p.workers).join(", ") || "none"
      }`,
    );
  }
  if (n < 2) {
    return {
      verdict: "inconclusive",
      why: "one core: there is no parallel speedup to measure",
    };
  }
  const speedup = sequentialMs / atN.ms;
  const efficiency = speedup / n;
  const figures = `${times(speedup)} faster on ${n} workers (efficiency ${
    pct(efficiency)
  })`;
  if (efficiency >= 0.75) {
    return { verdict: "holds", why: `${figures}: nearly ${n}×` };
  }
  if (efficiency < 0.5) {
    return onMachine({
      verdict: "does not hold here",
      why: `only ${figures}`,
    }, conditions);
  }
  return onMachine(
    { verdict: "inconclusive", why: `${figures}: between 50 and 75 %` },
    conditions,
  );
}

/**
 * 004: "copying huge arrays (4K frames) through a Queue is slow; sharing
 * them (Value/Array) avoids it".
 *
 * @param queueMs Handing one frame to a running process through a Queue.
 * @param sharedMs Handing it over in shared memory (the slower of the
 * shared variants measured).
 * @param conditions Cores and load.
 * @returns The verdict.
 * @throws {RangeError} For a non-positive time.
 */
export function judgeFrameSharing(
  queueMs: number,
  sharedMs: number,
  conditions: Conditions,
): Judgement {
  checkPositive(queueMs, "queueMs", "frame sharing");
  checkPositive(sharedMs, "sharedMs", "frame sharing");
  const ratio = queueMs / sharedMs;
  const figures = `the Queue copy is ${times(ratio)} slower than sharing`;
  if (ratio >= 10) return { verdict: "holds", why: figures };
  if (ratio < 2) {
    return onMachine(
      { verdict: "does not hold here", why: figures },
      conditions,
    );
  }
  return onMachine(
    { verdict: "inconclusive", why: `${figures} (between 2× and 10×)` },
    conditions,
  );
}

/** One task size of the start-up claim. */
export interface BreakEvenPoint {
  /** Work per item, measured sequentially, in microseconds. */
  readonly itemUs: number;
  /** All items, one after another in this thread. */
  readonly sequentialMs: number;
  /** New Pool(N) + map + terminate: start-up included. */
  readonly coldPoolMs: number;
  /** map on a Pool already started. */
  readonly warmPoolMs: number;
}

/** The smallest measured item size at which `pick` beats sequential code. */
export function breakEven(
  points: readonly BreakEvenPoint[],
  pick: (p: BreakEvenPoint) => number,
): BreakEvenPoint | null {
  const sorted = [...points].sort((a, b) => a.itemUs - b.itemUs);
  // The first size from which the pool keeps winning: a single lucky win
  // below a loss is noise, not a break-even point.
  for (let i = 0; i < sorted.length; i++) {
    if (sorted.slice(i).every((p) => pick(p) < p.sequentialMs)) {
      return sorted[i];
    }
  }
  return null;
}

/**
 * 004 / 003: "creating processes is expensive, so tiny tasks do not pay
 * off" — a freshly created Pool loses to sequential code on tiny items and
 * wins from some item size on.
 *
 * @param points One per item size (at least two).
 * @param conditions Cores and load.
 * @returns The verdict.
 * @throws {RangeError} With fewer than two points.
 */
export function judgeStartup(
  points: readonly BreakEvenPoint[],
  conditions: Conditions,
): Judgement {
  if (points.length < 2) {
    throw new RangeError(
      `Cannot judge start-up cost as 'points' must hold at least 2 item sizes: current value has ${points.length}`,
    );
  }
  const sorted = [...points].sort((a, b) => a.itemUs - b.itemUs);
  const tiny = sorted[0];
  const us = (p: BreakEvenPoint) => `${formatUs(p.itemUs)} per item`;
  if (tiny.coldPoolMs < tiny.sequentialMs) {
    return onMachine({
      verdict: "does not hold here",
      why: `a new Pool already wins at ${us(tiny)}`,
    }, conditions);
  }
  const cold = breakEven(sorted, (p) => p.coldPoolMs);
  if (cold === null) {
    return conditions.cpus < 2
      ? {
        verdict: "inconclusive",
        why: "one core: a Pool cannot win on CPU-bound items here",
      }
      : {
        verdict: "inconclusive",
        why: `tiny items lose, but a new Pool never won up to ${
          us(sorted[sorted.length - 1])
        }`,
      };
  }
  return {
    verdict: "holds",
    why: `a new Pool loses at ${us(tiny)} and keeps winning from ${
      us(cold)
    } on (start-up included)`,
  };
}

/** Microseconds as "12 µs", "3.4 ms". */
export function formatUs(us: number): string {
  if (us < 1) return `${us.toFixed(2)} µs`;
  if (us < 1000) return `${us < 10 ? us.toFixed(1) : us.toFixed(0)} µs`;
  return `${(us / 1000).toFixed(us < 10_000 ? 1 : 0)} ms`;
}

/** Throughput of the same CPU-bound items with `factor × cores` workers. */
export interface OversubscriptionPoint {
  readonly factor: number;
  readonly itemsPerSecond: number;
}

/**
 * 002: "do not create more processes than cores": more processes than
 * cores bring no throughput on CPU-bound work.
 *
 * @param points One per factor; factor 1 is the reference.
 * @param conditions Cores and load.
 * @returns The verdict.
 * @throws {RangeError} Without a factor-1 point or a factor above 1.
 */
export function judgeOversubscription(
  points: readonly OversubscriptionPoint[],
  conditions: Conditions,
): Judgement {
  const base = points.find((p) => p.factor === 1);
  const over = points.filter((p) => p.factor > 1);
  if (base === undefined || over.length === 0) {
    throw new RangeError(
      `Cannot judge oversubscription as 'points' must hold factor 1 and a factor above 1: current value has ${
        points.map((p) => p.factor).join(", ") || "none"
      }`,
    );
  }
  for (const p of points) {
    checkPositive(p.itemsPerSecond, "itemsPerSecond", "oversubscription");
  }
  const best = over.reduce((a, b) =>
    b.itemsPerSecond > a.itemsPerSecond ? b : a
  );
  const gain = best.itemsPerSecond / base.itemsPerSecond - 1;
  const figures = `best oversubscribed throughput (${best.factor}× cores) is ${
    gain >= 0 ? "+" : ""
  }${pct(gain)} against 1× cores`;
  if (gain <= 0.05) return { verdict: "holds", why: `${figures}: no gain` };
  if (gain > 0.15) {
    return onMachine(
      { verdict: "does not hold here", why: figures },
      conditions,
    );
  }
  return onMachine(
    { verdict: "inconclusive", why: `${figures} (between 5 and 15 %)` },
    conditions,
  );
}

/** Wall time of `processes` children that each sleep once. */
export interface SleepPoint {
  readonly processes: number;
  readonly wallMs: number;
}

/**
 * 000 / 001: the sleep examples finish in ≈ 1 s, not N s, when their N
 * processes run in parallel.
 *
 * @param sleepMs How long each child sleeps.
 * @param points One per process count (each > 1).
 * @param conditions Cores and load.
 * @returns The verdict.
 * @throws {RangeError} For no points or a non-positive time.
 */
export function judgeParallelSleep(
  sleepMs: number,
  points: readonly SleepPoint[],
  conditions: Conditions,
): Judgement {
  checkPositive(sleepMs, "sleepMs", "parallel sleep");
  if (points.length === 0) {
    throw new RangeError(
      "Cannot judge parallel sleep as 'points' must not be empty: current value is []",
    );
  }
  const worst = points.reduce((a, b) =>
    b.wallMs / b.processes > a.wallMs / a.processes ? b : a
  );
  const slowest = points.reduce((a, b) => (b.wallMs > a.wallMs ? b : a));
  const figures = points.map((p) =>
    `${p.processes} × ${sleepMs / 1000} s in ${(p.wallMs / 1000).toFixed(2)} s`
  ).join(", ");
  if (slowest.wallMs < sleepMs * 1.5) return { verdict: "holds", why: figures };
  if (worst.wallMs >= worst.processes * sleepMs * 0.75) {
    return onMachine(
      { verdict: "does not hold here", why: `${figures}: sequential` },
      conditions,
    );
  }
  return onMachine(
    { verdict: "inconclusive", why: `${figures}: above 1.5 s` },
    conditions,
  );
}

/**
 * 002: "I/O-bound work is better served by async code than by processes".
 *
 * @param asyncMs The waits run concurrently with async code in one thread.
 * @param poolMs The same waits run as tasks of a Pool of N processes.
 * @param conditions Cores and load.
 * @returns The verdict.
 * @throws {RangeError} For a non-positive time.
 */
export function judgeAsyncIo(
  asyncMs: number,
  poolMs: number,
  conditions: Conditions,
): Judgement {
  checkPositive(asyncMs, "asyncMs", "async I/O");
  checkPositive(poolMs, "poolMs", "async I/O");
  const ratio = poolMs / asyncMs;
  const figures = `async code is ${times(ratio)} faster than the Pool`;
  if (ratio >= 2) return { verdict: "holds", why: figures };
  if (ratio <= 1) {
    return onMachine({
      verdict: "does not hold here",
      why: `async code is not faster (${times(ratio)})`,
    }, conditions);
  }
  return onMachine(
    { verdict: "inconclusive", why: `${figures} (less than 2×)` },
    conditions,
  );
}
