// The blast-radius violations the hardening suites know of, and the tally of steps they checked.
import type { BlastRadiusReport, BlastRadiusViolation } from '#local/scenario/blastRadius';

/**
 * Violations found in the scenarios and left for a decision, by `scenario invariant subject`, with why.
 * Production code is not changed by the suites; an entry here keeps a run green and is printed.
 */
export const KNOWN_BLAST_RADIUS_VIOLATIONS: Record<string, string> = {};

const keyOf = (v: BlastRadiusViolation) => `${v.scenario} ${v.invariant} ${v.subject}`;

export const unknownViolations = (report: BlastRadiusReport | undefined): BlastRadiusViolation[] =>
  (report?.violations ?? []).filter((v) => !(keyOf(v) in KNOWN_BLAST_RADIUS_VIOLATIONS));

/** Steps and violations over the runs of one suite, for the line it prints at the end. */
export class BlastRadiusTally {
  private steps = 0;
  private runs = 0;
  private readonly known = new Map<string, number>();
  private unknown = 0;

  add(report: BlastRadiusReport | undefined): void {
    if (!report) return;
    this.runs += 1;
    this.steps += report.steps;
    for (const v of report.violations) {
      if (keyOf(v) in KNOWN_BLAST_RADIUS_VIOLATIONS)
        this.known.set(keyOf(v), (this.known.get(keyOf(v)) ?? 0) + 1);
      else this.unknown += 1;
    }
  }

  summary(suite: string): string {
    const known = [...this.known].map(([key, n]) => `\n  known: ${key} (${n} times)`).join('');
    return `blast radius, ${suite}: ${this.steps} steps checked in ${this.runs} runs, ${this.unknown} violations${known}`;
  }
}
