import assert from "node:assert/strict";
import {
  kLongestMs,
  kTrialEvery,
  kTrialWaits,
  WaitChoice,
} from "../src/_memory/wait_choice.ts";
import { Spin } from "../src/_memory/spin.ts";

/** Runs `count` waits of `choice`, each `ms` long; returns how many spun. */
function waits(
  choice: WaitChoice,
  count: number,
  ms: (spun: boolean) => number,
) {
  let spun = 0;
  for (let i = 0; i < count; i++) {
    const spins = choice.spins();
    if (spins) spun++;
    choice.record(ms(spins));
  }
  return spun;
}

Deno.test("WaitChoice spins first and tries sleeping at once for the last kTrialWaits waits of every kTrialEvery", () => {
  const choice = new WaitChoice();
  assert.deepEqual(choice.means, [0, Number.NaN]);
  // Spinning is quicker here: only the trials sleep.
  const spun = waits(choice, 4 * kTrialEvery, (spins) => spins ? 0.01 : 0.1);
  assert.equal(spun, 4 * (kTrialEvery - kTrialWaits));
  assert.ok(Math.abs(choice.means[1] - 0.1) < 1e-9, `${choice.means}`);
});

Deno.test("WaitChoice takes the way whose waits are shorter, and goes back when a trial finds the other quicker again", () => {
  const choice = new WaitChoice();
  // A full machine: a spin loses, and sleeping at once is quicker.
  let spinMs = 0.3;
  waits(choice, kTrialEvery, (spins) => spins ? spinMs : 0.03);
  // Sleeping from now on, but for the round's trial, which spins.
  const round = kTrialEvery - kTrialWaits;
  assert.equal(waits(choice, round, () => 0.03), 0);
  // The machine idles again: the trial's spins are quick, and win.
  spinMs = 0.002;
  assert.equal(waits(choice, kTrialWaits, () => spinMs), kTrialWaits);
  assert.equal(waits(choice, round, () => spinMs), round);
});

Deno.test("WaitChoice counts a wait as kLongestMs at most: a long one is an idle spell, not a hand-off", () => {
  const choice = new WaitChoice();
  waits(choice, kTrialEvery, (spins) => spins ? 0.2 : 50);
  assert.equal(choice.means[1], kLongestMs);
  // 0.2 ms spins still win against sleeps of any length.
  assert.equal(choice.spins(), true);
});

Deno.test("a Spin whose sleeps proved quicker than its spins sleeps at once: one look, no spin", () => {
  const spin = new Spin(1 << 20, 0.01);
  const burn = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  let polls = 0;
  const never = () => (++polls, false);
  for (let i = 0; i < kTrialEvery; i++) {
    polls = 0;
    const spun = spin.until(never);
    assert.equal(spun, false);
    // Spinning first: the answer comes late (the spinner held the core the
    // other side needed). Sleeping at once: it comes soon.
    burn(polls > 1 ? 0.45 : 0);
    spin.woke();
  }
  polls = 0;
  assert.equal(spin.until(never), false);
  assert.equal(polls, 1);
});
