// The deployment hook's journal grown past what a deployments view reads: each view's "truncated" case.
import type { Twin } from '#local/twin/twin';

/** Journals `count` IN_PROGRESS answers of the hook for deployment `id` of prod/web. */
export function recordHookAnswers(twin: Twin, id: string, count = 1000): void {
  for (let i = 0; i < count; i++)
    twin.recorders.journal.record({
      reflex: 'deployment-hook',
      action: 'answer-hook',
      target: `prod/web ${id} POST_TEST_TRAFFIC_SHIFT`,
      reason: 'IN_PROGRESS: waiting',
      dryRun: false,
      outcome: 'done',
      detail: { hookStatus: 'IN_PROGRESS' },
    });
}
