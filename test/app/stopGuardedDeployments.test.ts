// The alarm reactor's stop of a native deployment, on the twin: the canary of
// native-canary-guard-alarm-hook-only runs (the reactor in dry run, so nothing has stopped it), its guard
// alarm is in ALARM and the hook waits for its next invocation. The use case is then run as the reactor runs
// it, over the twin's ECS and CloudWatch through the real adapters; what is asserted is what ECS did.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type GuardedDeploymentSettings, stopGuardedDeployments } from '#app/stopGuardedDeployments';
import { createAlarmReactorHandler } from '#functions/alarmReactor';
import { prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';
import { lambdaContext } from '#local/twin/delivery';
import { eventEnvelope } from '#local/twin/events';
import type { GuardedDeploymentPorts, JournalEntry, Notification } from '#ports';
import { guardedDeploymentPorts } from '#wiring/alarmReactor';

const SCENARIO = path.join(__dirname, '../../local/scenarios/native-canary-guard-alarm-hook-only.json');
const GUARD = 'web-green-5xx';

/** The canary `seconds` after the scenario's start (the shift is at 1:35, the alarm fires at 2:00). */
async function canaryAt(seconds: number) {
  const scenario = ScenarioSchema.parse(JSON.parse(readFileSync(SCENARIO, 'utf8')));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  await twin.runFor(seconds);
  const journal: JournalEntry[] = [];
  const notified: Notification[] = [];
  const ports: GuardedDeploymentPorts = {
    ...guardedDeploymentPorts(twin.clients, twin.alarmPorts),
    journal: { record: (entry) => journal.push(entry) },
    notifier: { notify: async (n) => void notified.push(n) },
  };
  const settings: GuardedDeploymentSettings = {
    dryRun: false,
    services: scenario.config.deploymentHookServices,
    hookFunctionName: 'deploymentHook',
  };
  const callsBefore = twin.world.apiCalls.length;
  const deployment = () => twin.nativeDeployments.deployments[0]!;
  return {
    twin,
    journal,
    notified,
    deployment,
    settings,
    stop: (alarm = GUARD, given: Partial<GuardedDeploymentSettings> = {}, over = ports) =>
      twin.settle(() => stopGuardedDeployments(alarm, over, { ...settings, ...given })),
    /** The alarm reactor's scheduled run, as its every-minute rule invokes it, with the stops enabled. */
    sweep: (given: Partial<GuardedDeploymentSettings> = {}) => {
      const handler = createAlarmReactorHandler(() => ({
        ports: twin.alarmPorts,
        settings: { dryRun: false, reactions: [] },
        deployments: { ports, settings: { ...settings, ...given } },
      }));
      const scheduled = eventEnvelope(twin.world, 'aws.events', 'Scheduled Event', [], {});
      return twin.settle(() => handler(scheduled, lambdaContext('alarmReactor')));
    },
    calls: (api?: string) =>
      twin.world.apiCalls.slice(callsBefore).filter((c) => !c.by && (!api || c.api === api)),
    ports,
  };
}

/**
 * The reactor has read the canary's deployment IN_PROGRESS; then another stop lands, and ECS rolls back for
 * `seconds` before the reactor's own stop arrives.
 */
async function readThenStoppedByAnother(seconds: number) {
  const canary = await canaryAt(150);
  const arn = canary.deployment().arn;
  const read = await canary.twin.settle(() => canary.ports.deployments.deployment(arn));
  await canary.twin.settle(() => canary.ports.stops.stop(arn));
  await canary.twin.runFor(seconds);
  return { canary, arn, read };
}

describe('a guard alarm stops a native deployment at once', () => {
  it('stops the deployment in progress with ROLLBACK, once: another alarm event finds it rolling back and holds', async () => {
    const canary = await canaryAt(150);
    expect(canary.deployment().status).toBe('IN_PROGRESS');

    const first = await canary.stop();
    const second = await canary.stop();

    expect(first).toEqual([
      expect.objectContaining({ decision: 'stop', why: `guard alarm ${GUARD} is in ALARM` }),
    ]);
    // ECS moves a stopped deployment to ROLLBACK_REQUESTED first; the second event finds it there.
    expect(second).toEqual([
      expect.objectContaining({
        decision: 'already-stopping',
        why: expect.stringContaining('ROLLBACK_REQUESTED'),
      }),
    ]);
    expect(canary.calls('StopServiceDeployment').map((c) => c.target)).toEqual([
      expect.stringMatching(/ ROLLBACK$/),
    ]);
    await canary.twin.runFor(60);
    expect(canary.deployment()).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      statusReason: expect.stringContaining('StopServiceDeployment'),
      production: 0,
    });
    expect(canary.journal).toEqual([
      expect.objectContaining({ action: 'stop-deployment', outcome: 'done', reflex: 'alarm-reactor' }),
      expect.objectContaining({ outcome: 'held', reason: expect.stringContaining('nothing to stop') }),
    ]);
    expect(canary.notified.map((n) => n.subject)).toEqual([
      expect.stringContaining(`stopped and rolled back (${GUARD})`),
    ]);
  });

  it('in dry run, journals the stop it would make and leaves the deployment to the hook', async () => {
    const canary = await canaryAt(150);

    const outcomes = await canary.stop(GUARD, { dryRun: true });

    expect(outcomes).toEqual([expect.objectContaining({ decision: 'stop' })]);
    expect(canary.calls('StopServiceDeployment')).toEqual([]);
    expect(canary.deployment().status).toBe('IN_PROGRESS');
    expect(canary.journal).toEqual([expect.objectContaining({ outcome: 'dry-run', dryRun: true })]);
  });

  it('checks the claim before any write: the alarm not in ALARM now, an alarm that guards nothing', async () => {
    // 1:50: green serves its 10 %, the alarm has not fired yet.
    const canary = await canaryAt(110);
    expect(canary.twin.cloudWatch.describe(GUARD)?.state).not.toBe('ALARM');

    expect(await canary.stop()).toEqual([]);
    expect(await canary.stop('some-other-alarm')).toEqual([]);

    expect(canary.calls('StopServiceDeployment')).toEqual([]);
    // DescribeAlarms only for the alarm that guards the deployment, never for one that guards nothing.
    expect(canary.calls('DescribeAlarms').map((c) => c.target)).toEqual([GUARD]);
    expect(canary.deployment().status).toBe('IN_PROGRESS');
  });

  it("acts only on the hook's services and on deployments whose hook is this stack's", async () => {
    const canary = await canaryAt(150);

    expect(await canary.stop(GUARD, { services: [] })).toEqual([]);
    expect(canary.calls()).toEqual([]);
    expect(await canary.stop(GUARD, { hookFunctionName: 'someoneElsesHook' })).toEqual([]);

    expect(canary.calls('StopServiceDeployment')).toEqual([]);
    expect(canary.deployment().status).toBe('IN_PROGRESS');
  });

  it('stops the others when one served service cannot be read, then fails the event naming it', async () => {
    const canary = await canaryAt(150);
    // A stale entry first in the stage's list: ECS no longer knows the service.
    const gone: GuardedDeploymentPorts['stops'] = {
      unfinished: async (cluster, service) => {
        if (service === 'gone')
          throw Object.assign(new Error('Service not found.'), { name: 'ServiceNotFoundException' });
        return canary.ports.stops.unfinished(cluster, service);
      },
      stop: (arn) => canary.ports.stops.stop(arn),
    };
    const services = [{ cluster: 'prod', service: 'gone' }, ...canary.settings.services];

    const stopping = canary.stop(GUARD, { services }, { ...canary.ports, stops: gone });

    await expect(stopping).rejects.toMatchObject({
      name: 'ActionsFailedError',
      failures: [{ action: 'stop-deployment', target: 'prod/gone', error: 'Service not found.' }],
    });
    expect(canary.calls('StopServiceDeployment').map((c) => c.target)).toEqual([
      expect.stringMatching(/ ROLLBACK$/),
    ]);
    expect(canary.journal).toEqual([expect.objectContaining({ action: 'stop-deployment', outcome: 'done' })]);
  });

  it("does not claim a rollback the hook's FAILED started after the deployment was read", async () => {
    // Another rollback starts (as the hook's FAILED would) before the reactor's own stop arrives, which ECS
    // answers with success all the same.
    const { canary, arn, read } = await readThenStoppedByAnother(2);
    expect(canary.deployment().status).toBe('ROLLBACK_IN_PROGRESS');
    let reads = 0;
    const racing: GuardedDeploymentPorts = {
      ...canary.ports,
      deployments: {
        deployment: async (x) => (reads++ === 0 ? read : canary.ports.deployments.deployment(x)),
      },
      stops: { unfinished: async () => [arn], stop: (x) => canary.ports.stops.stop(x) },
    };

    const outcomes = await canary.stop(GUARD, {}, racing);

    expect(outcomes).toEqual([
      expect.objectContaining({
        decision: 'already-stopping',
        why: expect.stringContaining('already rolling back'),
      }),
    ]);
    expect(canary.journal).toEqual([expect.objectContaining({ outcome: 'held' })]);
    expect(canary.notified).toEqual([]);
  });

  it('says so when ECS refuses the stop because the deployment ended after it was read', async () => {
    // Someone else's stop lands and ECS rolls the deployment back to the end before the reactor's own stop.
    const { canary, arn, read } = await readThenStoppedByAnother(60);
    expect(canary.deployment().status).toBe('ROLLBACK_SUCCESSFUL');
    const racing: GuardedDeploymentPorts = {
      ...canary.ports,
      deployments: { deployment: async () => read },
      stops: { unfinished: async () => [arn], stop: (x) => canary.ports.stops.stop(x) },
    };

    const outcomes = await canary.stop(GUARD, {}, racing);

    expect(outcomes).toEqual([
      expect.objectContaining({ decision: 'refused', why: expect.stringContaining('ConflictException') }),
    ]);
    expect(canary.journal).toEqual([
      expect.objectContaining({ outcome: 'held', reason: expect.stringContaining('ECS did not stop it') }),
    ]);
  });
});

describe("the alarm reactor's sweep stops a guarded deployment whose ALARM event was lost", () => {
  // In native-canary-guard-alarm-hook-only nothing acted on the ALARM event: as far as ECS knows, it was lost.
  it('stops it with ROLLBACK at the next sweep, reading every guard alarm in one DescribeAlarms', async () => {
    const canary = await canaryAt(150);
    expect(canary.twin.cloudWatch.describe(GUARD)?.state).toBe('ALARM');
    expect(canary.deployment().status).toBe('IN_PROGRESS');

    await canary.sweep();
    // ECS takes the rollback over in its own time; the next minute's sweep comes after it.
    await canary.twin.runFor(60);
    await canary.sweep();

    expect(canary.calls('StopServiceDeployment').map((c) => c.target)).toEqual([
      expect.stringMatching(/ ROLLBACK$/),
    ]);
    expect(canary.deployment()).toMatchObject({ status: 'ROLLBACK_SUCCESSFUL', production: 0 });
    // The second sweep finds no deployment unfinished, and so reads no alarm.
    expect(canary.calls('DescribeAlarms').map((c) => c.target)).toEqual([GUARD]);
    expect(canary.journal).toEqual([
      expect.objectContaining({
        action: 'stop-deployment',
        outcome: 'done',
        reason: `stopped with ROLLBACK: guard alarm ${GUARD} is in ALARM`,
      }),
    ]);
    expect(canary.notified.map((n) => n.subject)).toEqual([
      expect.stringContaining(`stopped and rolled back (${GUARD})`),
    ]);
  });

  it('makes no StopServiceDeployment call while no guard alarm is in ALARM', async () => {
    // 1:50: green serves its 10 %, the alarm has not fired yet.
    const canary = await canaryAt(110);
    expect(canary.twin.cloudWatch.describe(GUARD)?.state).not.toBe('ALARM');

    await canary.sweep();

    expect(canary.calls('StopServiceDeployment')).toEqual([]);
    expect(canary.calls('DescribeAlarms')).toHaveLength(1);
    expect(canary.journal).toEqual([]);
    expect(canary.deployment().status).toBe('IN_PROGRESS');
  });

  it('in dry run, journals the stop it would make and makes none', async () => {
    const canary = await canaryAt(150);

    await canary.sweep({ dryRun: true });

    expect(canary.calls('StopServiceDeployment')).toEqual([]);
    expect(canary.deployment().status).toBe('IN_PROGRESS');
    expect(canary.journal).toEqual([expect.objectContaining({ outcome: 'dry-run', dryRun: true })]);
  });

  it("looks only at the hook's services and at deployments whose hook is this stack's", async () => {
    const canary = await canaryAt(150);

    await canary.sweep({ services: [] });
    await canary.sweep({ hookFunctionName: 'someoneElsesHook' });

    expect(canary.calls('StopServiceDeployment')).toEqual([]);
    expect(canary.calls('DescribeAlarms')).toEqual([]);
    expect(canary.deployment().status).toBe('IN_PROGRESS');
  });
});
