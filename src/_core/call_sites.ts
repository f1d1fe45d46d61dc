// The modules on the call stack, read from V8's call sites rather than the
// stack's text, in which a path may hold any character (and Deno shows a
// local module's path decoded when the program was started by a path with
// a space).
//
// Tier 1: imports nothing.

const moduleScheme = /^(?:file|https?|jsr|npm|data):/;

// V8 names a local module's file by its path, decoded: back to the URL
// that import.meta.url gives.
function frameUrl(name: string): string | undefined {
  if (moduleScheme.test(name)) return name;
  if (!name.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(name)) return undefined;
  const path = name.replaceAll("\\", "/").replace(/^(?=[A-Za-z]:)/, "/")
    .replace(/[%#?]/g, encodeURIComponent);
  return new URL(`file://${path}`).href;
}

type Prepare = (error: Error, sites: { getFileName(): unknown }[]) => unknown;

/**
 * The module URL of each frame of the caller's stack that runs a module's
 * code (innermost first, this function's own frame left out).
 */
export function callSiteUrls(): string[] {
  const V8Error = Error as ErrorConstructor & { prepareStackTrace?: Prepare };
  const limit = Error.stackTraceLimit;
  const prepare = V8Error.prepareStackTrace;
  let names: unknown;
  // Deep enough for a class met deep inside a value (the reduction walk
  // takes two frames a level); the file names alone cost little.
  Error.stackTraceLimit = 1024;
  V8Error.prepareStackTrace = (_, sites) => sites.map((s) => s.getFileName());
  try {
    names = new Error().stack;
  } finally {
    Error.stackTraceLimit = limit;
    V8Error.prepareStackTrace = prepare;
  }
  const urls: string[] = [];
  if (!Array.isArray(names)) return urls;
  for (const name of names.slice(1)) {
    const url = typeof name === "string" ? frameUrl(name) : undefined;
    if (url !== undefined) urls.push(url);
  }
  return urls;
}
