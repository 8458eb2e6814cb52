// What a scenario run shows a person: one line per event in, decision, action and notable world change,
// stamped with virtual time since the start.

export type TimelineKind = 'event' | 'decision' | 'action' | 'world' | 'fault' | 'lambda' | 'expect';

export interface TimelineEntry {
  t: number;
  kind: TimelineKind;
  text: string;
  data?: Record<string, unknown>;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];

  constructor(private readonly elapsed: () => number) {}

  add(kind: TimelineKind, text: string, data?: Record<string, unknown>): void {
    this.entries.push({ t: this.elapsed(), kind, text, data });
  }
}

export function clockLabel(seconds: number): string {
  const whole = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
}

/** The timeline as a person reads it: the clock, the kind in six columns, the text. */
export const formatTimeline = (entries: TimelineEntry[]): string =>
  entries
    .map((e) => `${clockLabel(e.t)}  ${e.kind === 'decision' ? 'decide' : e.kind.padEnd(6)}  ${e.text}`)
    .join('\n');
