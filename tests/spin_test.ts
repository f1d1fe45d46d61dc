import assert from "node:assert/strict";
import { kClockEvery, kProbe, Spin } from "../src/_memory/spin.ts";

Deno.test("Spin halves its budget on every miss, down to the probe, and doubles it on each prompt hit, up to its cap", () => {
  const spin = new Spin(1024, 1000);
  assert.equal(spin.budget, 1024);
  for (const expected of [512, 256, 128, 64, 32, 32]) {
    assert.equal(spin.until(() => false), false);
    assert.equal(spin.budget, expected);
  }
  assert.equal(kProbe, 32);
  for (const expected of [64, 128, 256, 512, 1024, 1024]) {
    assert.equal(spin.until(() => true), true);
    assert.equal(spin.budget, expected);
  }
});

Deno.test("Spin polls until ready() holds and counts the polls against its budget", () => {
  const spin = new Spin(100, 1000);
  let polls = 0;
  assert.equal(spin.until(() => ++polls === 10), true);
  assert.equal(polls, 10);
  polls = 0;
  assert.equal(spin.until(() => (++polls, false)), false);
  assert.equal(polls, 100);
});

Deno.test("Spin stops at once and shrinks when the spin outlasts worthMs, as when the other side is descheduled", () => {
  const spin = new Spin(1 << 20, 0.2);
  let polls = 0;
  const ready = () => {
    polls++;
    // Each poll takes ~10 µs: as slow as a spinner that keeps losing its core.
    const until = performance.now() + 0.01;
    while (performance.now() < until);
    return false;
  };
  assert.equal(spin.until(ready), false);
  // Cut off by time (the first clock check after 0.2 ms), far below the budget.
  assert.ok(polls < 1 << 10, `polled ${polls} times`);
  assert.equal(spin.budget, 1 << 19);
});

Deno.test("Spin counts a hit that came only after worthMs as a miss", () => {
  const spin = new Spin(1 << 20, 0.05);
  let polls = 0;
  // The poll right after kClockEvery finds the other side, but only after
  // 0.06 ms more: by then the spin cost more than the sleep it was meant to
  // save. No clock check comes before it, so a preempted test thread cannot
  // turn the hit into a cut-off.
  const hit = kClockEvery + 1;
  assert.equal(spin.until(() => ++polls === hit && slowDown(0.06)), true);
  assert.equal(spin.budget, 1 << 19);
});

// Burns `ms` and says true.
function slowDown(ms: number): boolean {
  const until = performance.now() + ms;
  while (performance.now() < until);
  return true;
}

Deno.test("a Spin with cap 0 never spins: one look", () => {
  const spin = new Spin(0, 1);
  let polls = 0;
  assert.equal(spin.until(() => (++polls, false)), false);
  assert.equal(polls, 1);
  assert.equal(spin.budget, 0);
});

Deno.test("Spin.woke() doubles a budget that missed when the answer came soon after, so a shrunk spin grows back", () => {
  const spin = new Spin(1024, 1000);
  for (let i = 0; i < 6; i++) spin.until(() => false);
  assert.equal(spin.budget, 32);
  // Asleep after the miss, woken by the answer well within 4 × worthMs.
  spin.woke();
  assert.equal(spin.budget, 64);
  // Only once per miss: a second report finds none.
  spin.woke();
  assert.equal(spin.budget, 64);
});

Deno.test("Spin.woke() leaves the budget alone after a late answer or a spin cut off by time", () => {
  const late = new Spin(1024, 0.01);
  late.until(() => false);
  assert.equal(late.budget, 512);
  slowDown(0.1); // the answer came 10 × worthMs after the miss
  late.woke();
  assert.equal(late.budget, 512);

  const cut = new Spin(1 << 20, 0.05);
  // Each poll takes ~10 µs, so the spin is cut off by time: the other side
  // (or this thread) is descheduled, and a wake-up says nothing.
  cut.until(() => (slowDown(0.01), false));
  assert.equal(cut.budget, 1 << 19);
  cut.woke();
  assert.equal(cut.budget, 1 << 19);
});
