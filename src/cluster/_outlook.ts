// When an agent's busy processes will be free, as far as it has measured
// its functions, so that it can ask for the next task a little before a
// process frees up (the pull takes 1–2 ms through the server on a busy
// host: 600 × 10 ms sleeps on 12 processes spent ~3 × 1.6 ms per process
// between chunks) — and the claims that wait for a process, so that none
// waits behind a task that overran its estimate while another agent could
// run it.
//
// Only a process running a measured chunk counts as soon free, only from
// kLeadMs before its expected end to kOverrunMs after it: a task whose
// duration is unknown (an apply, a first chunk) or that overran (a task
// gated on a later call) never has a task claimed ahead for it. A claim
// still waiting kGiveBackMs after it came is given back, and JetStream
// gives it to another agent at once. So the deadlock of claiming ahead
// (a task gated on a later call held a claim that would have opened its
// gate) cannot happen: the claim waits 20 ms at most.
//
// Tier 8: the cluster export only.

import type { Claim } from "./_claims.ts";

/** How long before a process's expected free time the agent asks for its next task. */
export const kLeadMs = 2;
/** How long past its expected end a process still counts as soon free. */
export const kOverrunMs = 10;
/** The longest a claimed task waits for a local process before it is given back. */
export const kGiveBackMs = 20;

/** An agent's running tasks' expected ends and its waiting claims. */
export class Outlook {
  // Running task → when it should end (performance.now() ms), if known.
  readonly #ends = new Map<Claim, number>();
  // Waiting claim → when it came.
  readonly #waiting = new Map<Claim, number>();
  readonly #onChange: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  /** @param onChange Called when a process turns soon free or a claim overdue. */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** A task started, expected to take `ms` (undefined: unknown). */
  started(claim: Claim, ms: number | undefined): void {
    if (ms !== undefined) this.#ends.set(claim, performance.now() + ms);
  }

  /** A task ended. */
  ended(claim: Claim): void {
    this.#ends.delete(claim);
  }

  /** A claim waits for a process. */
  queued(claim: Claim): void {
    this.#waiting.set(claim, performance.now());
  }

  /** A claim no longer waits (it started, or was given back). */
  dequeued(claim: Claim): void {
    this.#waiting.delete(claim);
  }

  /** Busy processes that should be free within kLeadMs. */
  soonFree(now: number): number {
    let count = 0;
    for (const end of this.#ends.values()) {
      if (end - kLeadMs <= now && now <= end + kOverrunMs) count++;
    }
    return count;
  }

  /** The claims that waited too long, oldest first. */
  overdue(now: number): Claim[] {
    const late: Claim[] = [];
    for (const [claim, since] of this.#waiting) {
      if (now - since >= kGiveBackMs) late.push(claim);
    }
    return late;
  }

  /** Calls onChange when the next process turns soon free or claim overdue. */
  plan(now: number): void {
    let next = Infinity;
    for (const end of this.#ends.values()) {
      if (end - kLeadMs > now) next = Math.min(next, end - kLeadMs);
    }
    for (const since of this.#waiting.values()) {
      next = Math.min(next, since + kGiveBackMs);
    }
    if (next >= this.#timerAt) return; // an earlier timer is set
    this.stop();
    if (next === Infinity) return;
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#onChange();
    }, Math.max(0, next - now));
  }

  /** Clears the timer. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
