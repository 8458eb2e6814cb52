// Notifications as the people subscribed to the topic receive them, on the twin's SNS: a chat channel (the
// custom-notification format of Amazon Q Developer in chat applications) and an e-mail reader, each with
// the command that steers what happened.

import { resolveScenarioPath } from '#local/cli/simulate';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';

async function notificationsOf(scenarioName: string) {
  const scenario = loadScenario(resolveScenarioPath(scenarioName));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  await twin.scheduler.runUntil(new Date(twin.scheduler.now().getTime() + scenario.duration * 1000));
  return { ...twin.recorders, journal: twin.journal };
}

/** The target a notification's "actions" step asks the API for (`GET /actions?target=...`). */
const actionsTarget = (steps: { api: string }[]) => {
  const api = steps.find((s) => s.api.startsWith('GET /actions?target='))!.api;
  return decodeURIComponent(api.slice('GET /actions?target='.length));
};

describe('notifications people read', () => {
  it('tells a chat channel and an e-mail reader that a rollout waits at a gate, and how to answer it', async () => {
    // Act
    const { notifications, notificationMessages } = await notificationsOf('rollout-gate-aborted');

    // Assess
    const gate = notifications.findIndex((n) => /waits for a person/.test(n.subject));
    expect(gate).toBeGreaterThanOrEqual(0);
    const run = notifications[gate]!.detail.runId as string;
    const { email, chat } = notificationMessages[gate]! as {
      email: string;
      chat: { version: string; source: string; content: { title: string; nextSteps: string[] } };
    };
    expect(chat).toMatchObject({ version: '1.0', source: 'custom' });
    expect(chat.content.title).toBe(notifications[gate]!.subject);
    expect(chat.content.nextSteps).toEqual([
      `resume the rollout: \`ecs-reflex rollout resume ${run}\` (POST /rollouts/${run}/resume)`,
      `abort it, all traffic back on stable: \`ecs-reflex rollout abort ${run}\` (POST /rollouts/${run}/abort)`,
    ]);
    expect(email).toContain(
      `What you can do:\n  resume the rollout:\n    ecs-reflex rollout resume ${run}\n`,
    );
    expect(email).toMatch(/it rolls back if nobody answers within 24 hours/);
  });

  it('tells people when a rollout starts, waits at its gate and is promoted, in that order', async () => {
    // Act
    const { notifications } = await notificationsOf('rollout-gate-promoted');

    // Assess
    expect(notifications.filter((n) => n.reflex === 'rollout').map((n) => n.subject)).toEqual([
      'Rollout of web started',
      expect.stringMatching(/^Rollout of web waits for a person at \d+% canary$/),
      'Rollout of web promoted',
    ]);
  });

  it('names the target by its short name, says what happened when a rollout rolls back, and how to see its actions', async () => {
    // Act
    const { notifications, journal } = await notificationsOf('rollout-gate-aborted');

    // Assess
    const rolledBack = notifications.find((n) => /rolled back/.test(n.subject))!;
    expect(rolledBack).toMatchObject({ reflex: 'rollout', severity: 'critical', target: 'web' });
    expect(rolledBack.summary).toMatch(/put all traffic back on stable \(from \d+% canary\)/);
    const target = actionsTarget(rolledBack.steer);
    expect(rolledBack.steer.map((s) => s.command)).toEqual([
      `ecs-reflex rollout watch ${rolledBack.detail.runId}`,
      `ecs-reflex actions --target '${target}'`,
    ]);
    // The action history matches a target exactly: the command finds the rollback it reports.
    expect(journal.filter((e) => e.target === target).map((e) => e.action)).toContain('rollback');
  });
});
