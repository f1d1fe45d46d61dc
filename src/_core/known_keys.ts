// Closed options objects: an unknown key is a TypeError that names it (and
// the key it was likely meant to be), never silently ignored. Without this,
// `new Process({ targt: f })` runs nothing and exits 0, and
// `{ maxWorker: 1 }` quietly gets the default.
//
// Tier 1: imports nothing of the library.

/**
 * Checks that `options` is undefined or an object (not null, not an
 * array), and that every own enumerable key of it is one of `known`.
 *
 * @param options The options object, as the caller received it.
 * @param known The keys it may hold.
 * @param what The operation, for the message ("create process").
 * @param prefix Where the object sits, for nested ones ("permissions").
 * @throws {TypeError} For anything else than undefined or an object (a
 * positional value where an options object belongs, as in CPython's
 * `map_async(f, items, 4)`), and for the first unknown key, with the
 * closest known key when one is near enough to be a typo.
 */
export function checkKnownKeys(
  options: unknown,
  known: readonly string[],
  what: string,
  prefix?: string,
): void {
  if (options === undefined) return;
  if (
    typeof options !== "object" || options === null || Array.isArray(options)
  ) {
    throw new TypeError(
      `Cannot ${what} as '${
        prefix ?? "options"
      }' must be an object: current value is ${Deno.inspect(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const path = prefix === undefined ? key : `${prefix}.${key}`;
    const guess = closest(key, known);
    const hint = guess === undefined
      ? `'${key}' is not one`
      : `did you mean '${guess}'?`;
    throw new TypeError(
      `Cannot ${what} as option '${path}' must be one of ${
        known.join(", ")
      }: ${hint}`,
    );
  }
}

/** The known key nearest to `key`, if it is close enough to be a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    // Case and snake_case slips (`max_workers`, `chunkSize`) count little.
    const distance = editDistance(
      key.toLowerCase().replaceAll("_", ""),
      candidate.toLowerCase(),
    );
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3))
    ? best
    : undefined;
}

/**
 * Edit distance with transpositions (optimal string alignment): a swapped
 * pair of letters is one slip, as a typo is.
 */
function editDistance(a: string, b: string): number {
  const rows = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i || j),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(
        rows[i - 1][j] + 1,
        rows[i][j - 1] + 1,
        rows[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}
