// Virtual time for the twin. Everything that happens later (a task reaching RUNNING, a message becoming
// visible, a Step Functions Wait) is a callback at a virtual instant, and running a scenario is popping
// them in order: an hour of cluster life costs only the work done at each instant.
//
// Libraries inside the twin (aws-local-stepfunctions sleeps with setTimeout and reads Date.now) wait in
// the same virtual time: while `runUntil` runs, the global timers put their callbacks on this ONE queue
// (a library timer and a twin callback due at the same instant run in the order they were set) and the
// global Date reads this scheduler's time. Outside `runUntil` the real globals are back.
//
// Not @sinonjs/fake-timers: it runs a zero-delay timer set inside a running timer 1 ms later (breaking
// same-instant FIFO), turns delays above 2^31-1 ms into 1 ms where a Wait may last a year, and its Date
// costs ~2 us per `new Date(...)` (scenarios ran 30-50% slower); a Proxy over the native Date costs ~100 ns.
import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import type { Clock } from '#ports';

interface Pending {
  at: number;
  seq: number;
  label: string;
  run: () => void | Promise<void>;
  /** A library's timer: what it resumes is not awaited by anyone, so the loop lets it settle. */
  settle?: boolean;
}

/** Two twins cannot run their clocks at once: the global timers and Date can follow only one of them. */
export class VirtualTimeBusy extends Error {
  override readonly name = 'VirtualTimeBusy' as const;
}

/** A run whose clock was taken back from it (`releaseVirtualTime`) stops at its next step with this. */
export class VirtualTimeReleased extends Error {
  override readonly name = 'VirtualTimeReleased' as const;
}

// Captured before any fake is installed: the loop yields to the real event loop with setImmediate, and
// real timers handed to the fake clearTimeout are cleared with the real one.
const real = {
  clearTimeout: globalThis.clearTimeout,
  setImmediate: globalThis.setImmediate,
  Date: globalThis.Date,
};

/** The run that holds the global timers and Date, and how to give them back. */
let active: { scheduler: VirtualScheduler; release: () => void } | undefined;

/**
 * What a twin put away must stop: library code it started (a Step Functions execution's Wait) that would
 * otherwise go on outside any run, on the real clock, and keep the process alive. One set per module
 * registry, so per test file.
 */
const putAwayHooks = new Set<() => void>();

export function onPutAway(stop: () => void): void {
  putAwayHooks.add(stop);
}

/** Stops what every twin of this process left running. Called after each test file. */
export function putAwayTwins(): void {
  for (const stop of putAwayHooks) stop();
  putAwayHooks.clear();
}

/**
 * Takes the global timers and Date back from a run still going (its test failed or timed out): that run
 * stops at its next step with VirtualTimeReleased. Called after every test, so one failing test cannot
 * leave the next one's twin VirtualTimeBusy. Returns whether a run held the clock.
 */
export function releaseVirtualTime(): boolean {
  if (!active) return false;
  active.release();
  return true;
}

/**
 * Lets every queued promise continuation run to its end (a macrotask boundary drains the microtask
 * queue): resumed library code has then finished or waits on a timer. A twin callback that resumes
 * library code it does not await returns `settled()`, so the loop moves on once that code has gone as
 * far as it can.
 */
export const settled = (): Promise<void> => new Promise<void>((resolve) => real.setImmediate(resolve));

type Outcome<T> = { value: T } | { error: unknown };
const outcomeOf = <T>(run: Promise<T>): Promise<Outcome<T>> =>
  run.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

export class VirtualScheduler implements Clock {
  private nowMs: number;
  private seq = 0;
  private readonly queue: Pending[] = [];
  /** Date as the code running inside runUntil sees it. */
  private readonly date = virtualDate(() => this.nowMs);
  /** Math.random as the code running inside runUntil sees it: seeded by the start, so runs repeat. */
  private readonly random: () => number;

  constructor(readonly start: Date) {
    this.nowMs = start.getTime();
    this.random = seededRandom(start.getTime() / 1000);
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  /** Seconds since the scenario started: the timeline's time axis. */
  elapsedSeconds(at: Date = this.now()): number {
    return (at.getTime() - this.start.getTime()) / 1000;
  }

  after(seconds: number, label: string, run: Pending['run']): void {
    this.at(new Date(this.nowMs + Math.max(0, seconds) * 1000), label, run);
  }

  at(when: Date, label: string, run: Pending['run']): void {
    this.enqueue({ at: Math.max(this.nowMs, when.getTime()), seq: this.seq++, label, run });
  }

  /**
   * Runs everything due up to `until` (inclusive), then leaves the clock there. A callback's promise is
   * awaited before the next callback runs; after a library timer (and after a callback that returns
   * `settled()`), every promise continuation it set off has run too. `afterEachStep` then looks at the
   * world between two callbacks (invariant checks), with the step's label and the clock still at it.
   */
  async runUntil(until: Date, options: { afterEachStep?: (label: string) => void } = {}): Promise<number> {
    const { afterEachStep } = options;
    const hold = this.installGlobals();
    try {
      let steps = 0;
      while (this.queue.length > 0 && this.queue[0]!.at <= until.getTime()) {
        if (hold.released) throw new VirtualTimeReleased('the clock was taken back from this run');
        const next = this.queue.shift()!;
        this.nowMs = next.at;
        await this.awaitOrPark(next);
        this.throwParkedFailure();
        // Only library timers pay for the macrotask hop: the twin's own callbacks are awaited.
        if (next.settle) await settled();
        steps += 1;
        afterEachStep?.(next.label);
      }
      if (hold.released) throw new VirtualTimeReleased('the clock was taken back from this run');
      this.throwParkedFailure();
      this.nowMs = Math.max(this.nowMs, until.getTime());
      return steps;
    } finally {
      hold.release();
    }
  }

  /**
   * Runs `act` now, on the virtual clock, and the queue with it until `act` settles: a handler a test
   * calls directly backs off between SDK attempts in virtual seconds, and the world moves on meanwhile.
   */
  async runUntilSettled<T>(label: string, act: () => Promise<T>): Promise<T> {
    let outcome: Outcome<T> | undefined;
    this.after(0, label, () =>
      outcomeOf(act()).then((settledWith) => {
        outcome = settledWith;
      }),
    );
    while (!outcome) {
      const next = this.queue[0];
      if (!next) throw new Error(`${label} waits for something the twin will never run`);
      await this.runUntil(new Date(next.at));
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  /** Told when a callback being awaited sets a virtual timer: it may be about to wait on it. */
  private timerSet: (() => void) | undefined;
  /** A parked callback that failed: thrown from runUntil at its next step, as an awaited one would be. */
  private parkedFailure: { error: unknown } | undefined;

  /**
   * Awaits a callback, unless it waits on a virtual timer (an SDK client's backoff, a library's sleep):
   * that timer is behind it on this queue, so awaiting would never end. Such a callback is parked: the
   * queue moves on, the timer resumes it, and its failure surfaces at the next step. Only a callback that
   * sets a timer pays for the macrotask hop that tells waiting from working.
   */
  private async awaitOrPark(step: Pending): Promise<void> {
    // Listening before the callback runs: it may set its timer before its first await.
    const timerSet = new Promise<void>((resolve) => {
      this.timerSet = resolve;
    });
    let run: void | Promise<void>;
    try {
      run = step.run();
    } finally {
      if (!run!) this.timerSet = undefined;
    }
    if (!run) return;
    let outcome: Outcome<void> | undefined;
    const tracked = outcomeOf(run).then((settledWith) => {
      outcome = settledWith;
    });
    await Promise.race([tracked, timerSet]);
    this.timerSet = undefined;
    if (!outcome) await settled();
    if (outcome) {
      if ('error' in outcome) throw outcome.error;
      return;
    }
    void tracked.then(() => {
      if (outcome && 'error' in outcome) this.parkedFailure ??= { error: outcome.error };
    });
  }

  private throwParkedFailure(): void {
    const failure = this.parkedFailure;
    this.parkedFailure = undefined;
    if (failure) throw failure.error;
  }

  /** Live timers by id, one set per scheduler: a timer set in one runUntil can be cleared in a later one. */
  private readonly timers = new Map<number, VirtualTimer>();
  /** setTimeout and friends over this queue, with Node's argument handling. */
  private readonly globals = {
    setTimeout: ((callback: TimerCallback, delay?: number, ...args: unknown[]) =>
      this.setTimer(callback, delay, args, false)) as unknown as typeof globalThis.setTimeout,
    setInterval: ((callback: TimerCallback, delay?: number, ...args: unknown[]) =>
      this.setTimer(callback, delay, args, true)) as unknown as typeof globalThis.setInterval,
    clearTimeout: ((handle: unknown) => this.clearTimer(handle)) as typeof globalThis.clearTimeout,
    clearInterval: ((handle: unknown) => this.clearTimer(handle)) as typeof globalThis.clearInterval,
  };

  private setTimer(callback: TimerCallback, delay: unknown, args: unknown[], repeat: boolean): VirtualTimer {
    if (typeof callback !== 'function')
      throw new TypeError('The "callback" argument must be of type function');
    // Like Node, a delay below 1 ms (or not a number) means 1 ms, so a library polling with
    // setTimeout(fn, 0) still lets virtual time move. Unlike Node, long delays are kept as they are.
    // Whole milliseconds, as Date has them (a backoff of 2 x 1.3^3 s is 4394.000000001 ms).
    const asNumber = Number(delay);
    const ms = Number.isFinite(asNumber) && asNumber >= 1 ? Math.trunc(asNumber) : 1;
    const timer = new VirtualTimer();
    const arm = () => {
      const run = () => {
        if (repeat) arm();
        else this.timers.delete(timer.id);
        callback(...args);
      };
      const label = repeat ? 'setInterval' : 'setTimeout';
      timer.item = { at: this.nowMs + ms, seq: this.seq++, label, run, settle: true };
      this.enqueue(timer.item);
      this.timerSet?.();
    };
    arm();
    this.timers.set(timer.id, timer);
    return timer;
  }

  private clearTimer(handle: unknown): void {
    const id = handle instanceof VirtualTimer ? handle.id : typeof handle === 'number' ? handle : Number.NaN;
    const timer = this.timers.get(id);
    if (timer) {
      this.timers.delete(id);
      if (timer.item) this.cancel(timer.item);
      return;
    }
    // A real timer (one made before runUntil, or by a module that kept node:timers' setTimeout, as middy
    // does) must still be cleared, or it would keep the process alive.
    if (!(handle instanceof VirtualTimer)) real.clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  }

  private enqueue(item: Pending): void {
    // Binary insertion keeps the queue sorted by (time, insertion order): same-instant work is FIFO.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.queue[mid]!;
      if (other.at < item.at || (other.at === item.at && other.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
  }

  private cancel(item: Pending): void {
    const index = this.queue.indexOf(item);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /**
   * Points the global timers and Date at this scheduler; returns the hold, whose release puts them back
   * (once: a run released from outside must not put them back over a later run's).
   */
  private installGlobals(): { release: () => void; readonly released: boolean } {
    if (active) {
      throw new VirtualTimeBusy(
        active.scheduler === this
          ? 'runUntil is already running on this scheduler'
          : 'another twin is running its clock: run twins one after the other',
      );
    }
    const saved = Object.fromEntries(
      [...Object.keys(this.globals), 'Date'].map((key) => [key, Reflect.get(globalThis, key)]),
    );
    const savedRandom = Math.random;
    Object.assign(globalThis, this.globals, { Date: this.date });
    // middy arms its early timeout (the context's remaining time) with node:timers' own setTimeout, not
    // the global one: on the real clock, an invocation waiting out a virtual backoff would time out after
    // thirty real seconds on a slow machine, and one left waiting at the end of a run would fire after it.
    const savedTimers = { setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout };
    Object.assign(timers, { setTimeout: this.globals.setTimeout, clearTimeout: this.globals.clearTimeout });
    syncBuiltinESMExports();
    // The SDK's retry jitter (and aws-local-stepfunctions' UUIDs) draw from Math.random: inside the twin
    // they draw from the run's own dice, so a run with faults is as repeatable as one without.
    Math.random = this.random;
    const hold = {
      released: false,
      release: () => {
        if (hold.released) return;
        hold.released = true;
        Object.assign(globalThis, saved);
        Object.assign(timers, savedTimers);
        syncBuiltinESMExports();
        Math.random = savedRandom;
        active = undefined;
      },
    };
    active = { scheduler: this, release: hold.release };
    return hold;
  }
}

/**
 * The native Date, except that `new Date()`, `Date()` and `Date.now()` give virtual time. Dates made
 * with it are plain native dates, so `instanceof Date` holds before, during and after runUntil.
 */
function virtualDate(now: () => number): DateConstructor {
  const date: DateConstructor = new Proxy(real.Date, {
    construct(target, args, newTarget) {
      const values = args.length === 0 ? [now()] : args;
      // Fast path for `new Date(...)`; a subclass of Date (newTarget) still gets its own prototype.
      return newTarget === date
        ? new target(...(values as [number]))
        : Reflect.construct(target, values, newTarget);
    },
    apply: () => new real.Date(now()).toString(),
    get: (target, key, receiver) => (key === 'now' ? now : Reflect.get(target, key, receiver)),
  });
  return date;
}

type TimerCallback = (...args: unknown[]) => void;

// Ids far above the ones Node hands out, so clearTimeout(number) never confuses a real timer with ours.
let nextTimerId = 1e12;

/** What Node's setTimeout returns, enough for code that keeps, refs, unrefs or clears it. */
class VirtualTimer {
  readonly id = nextTimerId++;
  item: Pending | undefined;
  ref = () => this;
  unref = () => this;
  hasRef = () => true;
  [Symbol.toPrimitive] = () => this.id;
}

/** mulberry32: small, seedable, good enough to make fault injection and ids repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SECONDS_PER_UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (use 90s, 5m, 1h)`);
  return Number(match[1]) * SECONDS_PER_UNIT[match[2] ?? 's']!;
}
