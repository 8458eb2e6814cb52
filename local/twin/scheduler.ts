// Virtual time for the twin. Everything that happens later (a task reaching RUNNING, a message becoming
// visible, a timeline step) is a callback at a virtual instant; running a scenario is popping them in
// order. An hour of cluster life costs only the work done at each instant, not the waiting between.
import type { Clock } from '#ports';

interface Pending {
  at: number;
  seq: number;
  label: string;
  run: () => void | Promise<void>;
}

export class VirtualScheduler implements Clock {
  private nowMs: number;
  private seq = 0;
  private readonly queue: Pending[] = [];

  constructor(readonly start: Date) {
    this.nowMs = start.getTime();
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
    const item: Pending = { at: Math.max(this.nowMs, when.getTime()), seq: this.seq++, label, run };
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

  /** Runs everything due up to `until` (inclusive), then leaves the clock there. */
  async runUntil(until: Date): Promise<number> {
    let steps = 0;
    while (this.queue.length > 0 && this.queue[0]!.at <= until.getTime()) {
      const next = this.queue.shift()!;
      this.nowMs = next.at;
      await next.run();
      steps += 1;
    }
    this.nowMs = Math.max(this.nowMs, until.getTime());
    return steps;
  }
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

export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (use 90s, 5m, 1h)`);
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[
    (match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(match[1]) * factor;
}
