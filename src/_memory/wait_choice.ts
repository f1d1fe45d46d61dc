// Whether a waiter spins at all, learned from how long its waits take.
//
// Why: the budget learning of spin.ts cannot tell an idle machine from a
// full one. On an idle machine a spin wins big (a wake-up costs 30–100 µs
// there, from a cold core). When the cores are full it loses big, and every
// local signal looks as it does on an idle machine: the other side answers
// soon after the spinner gives up, because the spinner held the core it
// needed. Linux also keeps a thread that sleeps ahead of busy threads in the
// queue for a core, and a thread that spins loses that place. Measured with
// one busy process beside a sequential round trip on 2 cores: spinning took
// 3–4× as long as sleeping at once; idle, sleeping at once took 2–5× as
// long as spinning.
//
// So each waiter compares the two ways by what both end in: how long its
// waits take, from the first look to holding what it waited for. That time
// includes what a spin costs the other side, since a round trip is a closed
// loop. It uses the way whose waits are shorter, and now and then tries the
// other for a few waits, as the machine's load changes:
//
//   rounds of kTrialEvery waits: the better way, then kTrialWaits of the other
//   each wait's length (at most kLongestMs) ──> that way's mean

/** Waits in one round: the last kTrialWaits of each try the other way. */
export const kTrialEvery = 256;
/** Waits in one trial. */
export const kTrialWaits = 8;
/** The longest wait that counts: longer ones are idle spells, not hand-offs. */
export const kLongestMs = 0.5;

const kSpin = 0;
const kSleep = 1;
type Way = typeof kSpin | typeof kSleep;

/** One waiter's choice between spinning first and sleeping at once. */
export class WaitChoice {
  // Mean wait in milliseconds when spinning first, and when sleeping at
  // once (NaN until tried: a waiter starts by spinning).
  readonly #means: [number, number] = [0, Number.NaN];
  #waits = 0;
  // The way the wait in progress took, and whether it is a trial's.
  #way: Way = kSpin;
  #trial = false;
  #trialSum = 0;
  #trialCount = 0;

  /** Whether the next wait spins first (false: it sleeps at once). */
  spins(): boolean {
    const best = this.#best();
    const turn = this.#waits++ % kTrialEvery;
    this.#trial = turn >= kTrialEvery - kTrialWaits;
    if (turn === kTrialEvery - kTrialWaits) {
      this.#trialSum = 0;
      this.#trialCount = 0;
    }
    this.#way = this.#trial ? (best === kSpin ? kSleep : kSpin) : best;
    return this.#way === kSpin;
  }

  /** Records how long the wait that {@linkcode spins} began took. */
  record(ms: number): void {
    const length = Math.min(ms, kLongestMs);
    const means = this.#means;
    if (this.#trial) {
      // A trial's mean replaces the old one: it is what the machine does now.
      this.#trialSum += length;
      if (++this.#trialCount === kTrialWaits) {
        means[this.#way] = this.#trialSum / kTrialWaits;
      }
    } else {
      means[this.#way] += (length - means[this.#way]) / 8;
    }
  }

  /** The mean wait of each way (NaN: not tried yet), for tests. */
  get means(): readonly [spin: number, sleep: number] {
    return [...this.#means];
  }

  #best(): Way {
    const [spin, sleep] = this.#means;
    return Number.isNaN(sleep) || spin <= sleep ? kSpin : kSleep;
  }
}
