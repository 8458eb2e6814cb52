// "Did you mean": the known name one or two keystrokes away from a mistyped one, for the CLI's commands and
// options, the stage files' keys and the ops API's request fields.

/**
 * The edit distance between two names (insertions, deletions, substitutions and swaps of neighbours each
 * count 1): `--dryrun` is 1 from `--dry-run`, `statsu` 1 from `status`.
 */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/** The known name closest to `typed`, when it is close enough to be what was meant (or starts it). */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const allowed = typed.length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const d = name.startsWith(typed) && typed.length >= 3 ? 1 : distance(typed, name);
    if (d <= allowed && (!best || d < best.distance)) best = { name, distance: d };
  }
  return best?.name;
}

/** `; did you mean X?` when one name is close, else nothing. */
export function didYouMean(typed: string, known: readonly string[], show = (name: string) => `'${name}'`) {
  const match = closest(typed, known);
  return match === undefined ? '' : `; did you mean ${show(match)}?`;
}
