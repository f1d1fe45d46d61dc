// Time: the one conversion from CPython's timeouts (seconds, `undefined` =
// forever) to deadlines, and the one race of a promise against a timer. Every
// wait of the library goes through these, so the rules (negative = no wait,
// Infinity = forever, timers never overflow) live in one place.

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
 * Settles with `{ value }` when `promise` fulfils within `timeout` seconds,
 * with `null` when the time passes first; rejects as `promise` does. The timer
 * is cleared either way, and a very long timeout re-arms it instead of letting
 * the timer overflow (which would fire it at once).
 */
export async function within<T>(
  promise: Promise<T>,
  timeout: number | undefined,
): Promise<{ value: T } | null> {
  if (timeout === undefined || timeout === Infinity) {
    return { value: await promise };
  }
  const deadline = deadlineOf(timeout);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then((value) => ({ value })),
      new Promise<null>((resolve) => {
        const arm = () => {
          const left = deadline - performance.now();
          if (left <= 0) return resolve(null);
          timer = setTimeout(arm, Math.min(left, kMaxTimerMs));
        };
        arm();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
