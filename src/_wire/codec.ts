// The value rules both rings share: which values may travel as JSON text
// (the SPSC channel of the pool, the MPMC ring of queues and pipes), and
// which arrays are worth packing into a Float64Array.
//
// A value is JSON-safe when JSON.parse(JSON.stringify(value)) gives back an
// equal value that structured clone would also give: finite numbers (not
// -0), strings, booleans, null, and dense plain arrays and plain objects of
// those, nested at most kJsonMaxDepth deep, with no object reached twice
// (JSON would copy a shared reference and loop on a cycle). Everything else
// takes the structured-clone route of the caller.
//
// Why this shape: the pool calls jsonSafe() once per task and per result
// (~15 M tiny items/s), so numbers and strings inside arrays are checked in
// line, and the identity set is only touched for nested objects.

/** Arrays longer than this skip the JSON attempt: they never fit a ring. */
export const kJsonMaxItems = 4096;
/** Deepest nesting that travels as JSON. */
export const kJsonMaxDepth = 64;
/** Below this many items a numeric array is not worth a Float64Array. */
const kNumericMin = 64;

// Objects met so far in the current check (not the top-level value: it can
// only be met again through a descendant, which is then met twice).
const met = new Set<object>();
// Whether `met` holds anything: cheaper to test than its size.
let dirty = false;

/**
 * True when `value` survives JSON.stringify/parse unchanged and as
 * structured clone would copy it (see the rules above).
 */
export function jsonSafe(value: unknown): boolean {
  if (typeof value !== "object") return primitiveSafe(value);
  if (value === null) return true;
  // Cleared before, not after: a getter that throws may leave entries, and
  // a try/finally here kept V8 from inlining the check into its callers.
  if (dirty) {
    met.clear();
    dirty = false;
  }
  return objectSafe(value, 0);
}

function primitiveSafe(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
    default:
      return false;
  }
}

function itemSafe(item: unknown, depth: number): boolean {
  if (typeof item !== "object") return primitiveSafe(item);
  if (item === null) return true;
  if (depth > kJsonMaxDepth || met.has(item)) return false;
  met.add(item);
  dirty = true;
  return objectSafe(item, depth);
}

function objectSafe(value: object, depth: number): boolean {
  if (Array.isArray(value)) {
    // A subclass inherits another constructor; Object.getPrototypeOf here
    // cost more than the rest of a tiny task's check.
    if ((value as unknown[]).constructor !== Array) return false;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      // Numbers and strings in line: the pool's common case.
      if (typeof item === "number") {
        if (!Number.isFinite(item) || (item === 0 && 1 / item < 0)) {
          return false;
        }
      } else if (typeof item !== "string" && !itemSafe(item, depth + 1)) {
        // undefined or a hole ends here too: JSON would make both null.
        return false;
      }
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false;
    if (!itemSafe(record[key], depth + 1)) return false;
  }
  return true;
}

/**
 * Packs an array of plain numbers into a Float64Array (exact for every JS
 * number, -0 and NaN included), or returns undefined for anything else or
 * anything short. A transferred Float64Array crosses a worker boundary in
 * constant time, where structured clone costs ~100 ns per element.
 */
export function packNumbers(value: unknown): Float64Array | undefined {
  if (!Array.isArray(value) || value.length < kNumericMin) return undefined;
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== "number") return undefined;
  }
  return Float64Array.from(value);
}

/**
 * The array that {@linkcode packNumbers} packed. Copied by a loop:
 * `Array.from()` on a typed array walks its iterator, 3–4× slower (20–30 ms
 * for a map's 200 000 results on the main thread, measured on Deno 2.9.6).
 */
export function unpackNumbers(numbers: Float64Array): number[] {
  const n = numbers.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = numbers[i];
  return out;
}
