// Where does a crash-looping service go back to? To the newest task definition that finished its
// deployment and then ran for a while before being replaced: finishing a deployment alone proves little,
// since the loop we are breaking may have started after its own deployment completed.
import type { DeploymentRecord } from '#domain/model';
import type { RecyclerPolicy } from '#domain/recyclerPolicy';

export type CrashLoopRemedy =
  | { kind: 'roll-back'; toTaskDefinitionArn: string }
  | { kind: 'alert-only'; why: string }
  | { kind: 'scale-to-zero'; why: string };

export function lastStableTaskDefinition(
  history: DeploymentRecord[],
  failingTaskDefinitionArn: string,
  minStableSeconds: number,
): string | undefined {
  const newestFirst = [...history].sort(
    (a, b) => (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0),
  );
  for (const [index, record] of newestFirst.entries()) {
    if (record.taskDefinitionArn === failingTaskDefinitionArn) continue;
    if (record.status !== 'SUCCESSFUL' || !record.finishedAt) continue;
    // The next deployment (newer) ended this one's run; it must have come late enough.
    const replacedBy = newestFirst[index - 1];
    const ranUntil = replacedBy?.startedAt;
    if (!ranUntil) continue;
    if ((ranUntil.getTime() - record.finishedAt.getTime()) / 1000 >= minStableSeconds) {
      return record.taskDefinitionArn;
    }
  }
  return undefined;
}

export function chooseCrashLoopRemedy(
  history: DeploymentRecord[],
  failingTaskDefinitionArn: string,
  rules: RecyclerPolicy['crashLoopBreaker'],
): CrashLoopRemedy {
  const good = lastStableTaskDefinition(history, failingTaskDefinitionArn, rules.minStableSeconds);
  if (good) return { kind: 'roll-back', toTaskDefinitionArn: good };
  const why = `no earlier task definition ran stably for ${rules.minStableSeconds}s`;
  // Scaling to zero is for a broken release with nothing to go back to, never for a shared cause.
  return rules.whenNoStableRevision === 'scale-to-zero'
    ? { kind: 'scale-to-zero', why }
    : { kind: 'alert-only', why };
}
