// Section 11: the fleet (local/scenario/fleet.ts: 20 clusters x 50 services, a tenth crash-looping at
// once, the sweep beside them) with every AWS call taking 30-120 ms, fed to the task recycler the way it
// was (the buffer straight to it, one batch of the whole account at a time) and the way it is deployed
// (each task group's messages in their own FIFO message group, groups side by side). Virtual time: the
// figures are the twin's seconds, the same on every run.
import type { SQSRecord } from 'aws-lambda';
import { crashLooping, FLEET, FLEET_CRASH, fleetScenario } from '#local/scenario/fleet';
import { runScenario } from '#local/scenario/runner';
import type { Twin, TwinOptions } from '#local/twin/twin';
import { type Summary, summarize } from './stats';

/** Issue 14's goal for the fleet: an event's action within 10 s at the 99th percentile. */
export const EVENT_TO_ACTION_GOAL_SECONDS = 10;
export const AWS_LATENCY = { minMs: 30, maxMs: 120 } as const;

type Deployment = NonNullable<TwinOptions['recyclerDeployment']>;

export interface FleetRun {
  deployment: Deployment;
  /** Crash-looping services, and the stop events the recycler's rules delivered. */
  crashLooping: number;
  events: number;
  /**
   * Per crash-looping service, seconds from the stop event that made its crash loop decidable (its
   * `failures`-th crash) to the rollback (the recycler's UpdateService).
   */
  eventToAction: Summary;
  /** Per stop event, seconds from the event to the recycler receiving it. */
  eventToRecycler: Summary;
  /** Seconds from the first crash to the last stop event reaching the recycler. */
  drainSeconds: number;
  rollbacks: number;
  expectationsFailed: string[];
  wallMs: number;
}

interface StopEvent {
  id: string;
  time: string;
  detail: { clusterArn: string; group: string; lastStatus: string };
}

const isStop = (event: unknown): event is StopEvent =>
  (event as { 'detail-type'?: string })['detail-type'] === 'ECS Task State Change' &&
  (event as StopEvent).detail?.lastStatus === 'STOPPED';

const clusterOf = (arn: string) => arn.split('/').pop()!;
const seconds = (from: string | Date, to: Date) => (to.getTime() - new Date(from).getTime()) / 1000;

async function runFleet(deployment: Deployment): Promise<FleetRun> {
  const scenario = fleetScenario();
  const received = new Map<string, Date>();
  let twin: Twin | undefined;
  const watch = (t: Twin) => {
    twin = t;
    t.recyclerQueue.watch((record: SQSRecord) => {
      const event = JSON.parse(record.body) as unknown;
      if (isStop(event) && !received.has(event.id)) received.set(event.id, t.scheduler.now());
    });
  };
  const started = performance.now();
  const result = await runScenario(scenario, {
    deployment: { awsLatency: AWS_LATENCY, recyclerDeployment: deployment },
    onTwin: watch,
  });
  const wallMs = performance.now() - started;
  const stops = new Map<string, StopEvent>();
  for (const event of result.deliveredEvents) if (isStop(event)) stops.set(event.id, event);
  const { failures } = scenario.config.policy.crashLoopBreaker;
  const updates = result.apiCalls.filter(
    (c) => c.api === 'UpdateService' && !c.failed && c.by?.startsWith('taskRecycler'),
  );
  const looping = crashLooping(FLEET);
  const eventToAction = looping.flatMap(({ cluster, service }) => {
    const own = [...stops.values()]
      .filter((e) => clusterOf(e.detail.clusterArn) === cluster && e.detail.group === `service:${service}`)
      .sort((a, b) => a.time.localeCompare(b.time));
    const deciding = own[failures - 1];
    const rollback = updates.find((c) => c.target.startsWith(`${cluster}/${service} `));
    return deciding && rollback ? [seconds(deciding.time, rollback.at)] : [];
  });
  const firstCrash = new Date(twin!.scheduler.start.getTime() + FLEET_CRASH.atSeconds * 1000);
  const lastReceived = Math.max(...[...received.values()].map((d) => d.getTime()));
  return {
    deployment,
    crashLooping: looping.length,
    events: stops.size,
    eventToAction: summarize(eventToAction),
    eventToRecycler: summarize(
      [...stops.values()].flatMap((e) => {
        const at = received.get(e.id);
        return at ? [seconds(e.time, at)] : [];
      }),
    ),
    drainSeconds: (lastReceived - firstCrash.getTime()) / 1000,
    rollbacks: eventToAction.length,
    expectationsFailed: result.expectations.filter((e) => !e.passed).map((e) => e.description),
    wallMs,
  };
}

/** Both designs in one run, the old one first. */
export async function measureFleet(
  only?: Deployment,
): Promise<{ oneAtATime: FleetRun; taskGroupFifo: FleetRun }> {
  if (only) return { [only]: await runFleet(only) } as never;
  const oneAtATime = await runFleet('one-at-a-time');
  const taskGroupFifo = await runFleet('task-group-fifo');
  return { oneAtATime, taskGroupFifo };
}
