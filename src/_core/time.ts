// Time: the one conversion from CPython's timeouts (seconds, `undefined` =
// forever) to deadlines, the one timer that never overflows, and the one
// race of a promise against it. Every wait of the library goes through
// these, so the rules (negative = no wait, Infinity = forever, timers never
// overflow) live in one place.

/** The longest delay a timer takes without firing at once (2^31 − 1 ms). */
const kMaxTimerMs = 2 ** 31 - 1;

/**
 * Seconds from now to a `performance.now()` deadline in milliseconds:
 * `undefined` (and `Infinity`) give `Infinity`, a negative timeout gives now.
 */
export function deadlineOf(timeout: number | undefined): number {
  return timeout === undefined
    ? Infinity
    : performance.now() + Math.max(0, timeout) * 1000;
}

/**
 * Calls `fn` once `seconds` have passed (never for `Infinity`; on a later
 * macrotask for 0 or less) and returns what cancels it. Unlike a bare
 * setTimeout, a delay past 2^31 − 1 ms (~24.8 days) re-arms the timer
 * instead of overflowing (which would fire it at once, with a warning).
 */
export function after(seconds: number, fn: () => void): () => void {
  if (seconds === Infinity) return () => {};
  const deadline = deadlineOf(seconds);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const left = deadline - performance.now();
    if (left <= 0 && timer !== undefined) return fn();
    timer = setTimeout(arm, Math.min(Math.max(0, left), kMaxTimerMs));
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Settles with `{ value }` when `promise` fulfils within `timeout` seconds,
 * with `null` when the time passes first; rejects as `promise` does. The timer
 * is cleared either way. A timeout of 0 or less still lets a promise that
 * has already settled win (CPython's `wait(0)` is a poll).
 */
export async function within<T>(
  promise: Promise<T>,
  timeout: number | undefined,
): Promise<{ value: T } | null> {
  if (timeout === undefined || timeout === Infinity) {
    return { value: await promise };
  }
  let cancel = () => {};
  try {
    return await Promise.race([
      promise.then((value) => ({ value })),
      new Promise<null>((resolve) => {
        cancel = after(timeout, () => resolve(null));
      }),
    ]);
  } finally {
    cancel();
  }
}
