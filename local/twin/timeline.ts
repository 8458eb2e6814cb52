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
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}`;
}

const marks: Record<TimelineKind, string> = {
  event: 'event ',
  decision: 'decide',
  action: 'action',
  world: 'world ',
  fault: 'fault ',
  lambda: 'lambda',
  expect: 'expect',
};

export function formatTimeline(entries: TimelineEntry[], options: { kinds?: TimelineKind[] } = {}): string {
  return entries
    .filter((e) => !options.kinds || options.kinds.includes(e.kind))
    .map((e) => `${clockLabel(e.t)}  ${marks[e.kind]}  ${e.text}`)
    .join('\n');
}
