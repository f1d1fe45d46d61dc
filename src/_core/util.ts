// Small helpers shared by the pools (pool.ts, executor.ts, the cluster's).

import { callerUrl, type TargetRef, targetRef } from "./target.ts";

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;

const refs = new WeakMap<Fn, TargetRef>();

/** A pool-wide reference for `fn`, cached per function (stack walks are slow). */
export function poolRef(fn: unknown, what: string): TargetRef {
  if (typeof fn === "function") {
    const known = refs.get(fn as Fn);
    if (known !== undefined) return known;
    const ref = targetRef(fn, callerUrl(), what);
    refs.set(fn as Fn, ref);
    return ref;
  }
  // An absolute URL needs no caller (and no stack walk); cache it by text.
  const text = fn instanceof URL
    ? fn.href
    : typeof fn === "string"
    ? fn
    : undefined;
  if (text !== undefined && absolute.test(text)) {
    let ref = byUrl.get(text);
    if (ref === undefined) {
      ref = targetRef(text, undefined, what);
      byUrl.set(text, ref);
    }
    return ref;
  }
  return targetRef(fn, callerUrl(), what);
}

const absolute = /^[a-z][a-z0-9+.-]*:/i;
const byUrl = new Map<string, TargetRef>();

/** The default chunk size: ceil(n / (4 × workers)), as CPython computes it. */
export function defaultChunksize(n: number, workers: number): number {
  return Math.max(1, Math.ceil(n / (4 * workers)));
}

/**
 * Runs `run`: a method that returns a promise rejects it, never throws
 * (`pool.map(f, xs).catch()` sees every error).
 */
export function rejecting<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}
