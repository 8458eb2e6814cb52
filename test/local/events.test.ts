// The twin's ECS task events as EventBridge carries them: JSON values only (times as ISO strings, a field
// the task was never given left out), and no field AWS's own task events do not have.
import { loadSample, sampleNames } from '#events/samples';
import { VirtualScheduler } from '#local/twin/scheduler';
import type { TaskState } from '#local/twin/state';
import { World } from '#local/twin/world';
import { addWebService } from '../support/webService';

interface TaskEvent {
  'detail-type': string;
  detail: Record<string, unknown> & { lastStatus: string; containers: Record<string, unknown>[] };
}

/** A one-instance cluster whose world keeps every event it sends. */
function aClusterSendingEvents(instance: { cpu: number; memory: number }) {
  const clock = new VirtualScheduler(new Date('2026-11-02T09:00:00Z'));
  const events: TaskEvent[] = [];
  const world = new World(clock, { event: (e) => events.push(e as TaskEvent), note: () => undefined }, 3);
  world.addCluster('prod');
  world.addInstance('prod', instance.cpu, instance.memory);
  return { clock, events, world };
}

/** A standalone task run, started and crashed on a one-instance cluster, and every event the world sent. */
async function aCrashedTask(): Promise<TaskEvent[]> {
  const { clock, events, world } = aClusterSendingEvents({ cpu: 2048, memory: 4096 });
  const td = world.addTaskDefinition({
    family: 'worker',
    revision: 17,
    cpu: 1024,
    memory: 2048,
    networkMode: 'awsvpc',
    containerName: 'worker',
    containerPort: 8080,
    behaviour: { startSeconds: 15, healthy: true },
  });
  const task = world.runTask({ cluster: 'prod', taskDefinitionArn: td.arn, group: 'family:worker' });
  await clock.runUntil(new Date('2026-11-02T09:01:00Z'));
  world.crash(task as TaskState, 137, 'OutOfMemoryError: Container killed due to memory usage');
  return events.filter((e) => e['detail-type'] === 'ECS Task State Change');
}

describe('the twin’s task state change events', () => {
  it('hold JSON values only, as they come off the bus', async () => {
    // Act
    const events = await aCrashedTask();

    // Assess
    expect(events.map((e) => e.detail.lastStatus)).toEqual(['PENDING', 'RUNNING', 'STOPPED']);
    for (const event of events) expect(event).toStrictEqual(JSON.parse(JSON.stringify(event)));
  });

  it('carry no field of a task or container that none of AWS’s own task events has', async () => {
    // Arrange
    const aws = sampleNames()
      .filter((name) => name.startsWith('ecs-task-'))
      .map((name) => loadSample(name) as TaskEvent);
    const taskFields = new Set(aws.flatMap((e) => Object.keys(e.detail)));
    const containerFields = new Set(aws.flatMap((e) => e.detail.containers.flatMap(Object.keys)));

    // Act
    const events = await aCrashedTask();

    // Assess
    const stopped = events.at(-1)!;
    expect(stopped.detail).toMatchObject({
      stopCode: 'EssentialContainerExited',
      stoppedAt: expect.any(String),
    });
    for (const { detail } of events) {
      expect(Object.keys(detail).filter((key) => !taskFields.has(key))).toEqual([]);
      expect(detail.containers.flatMap(Object.keys).filter((key) => !containerFields.has(key))).toEqual([]);
    }
  });
});

describe('the world a scenario starts from', () => {
  it('announces none of its tasks, which ran long before; a task it starts later is announced', async () => {
    // Prepare: a service whose two tasks run when the scenario starts
    const { clock, events, world } = aClusterSendingEvents({ cpu: 4096, memory: 8192 });
    addWebService(world, 2);
    world.start();

    // Act: a minute passes, then the service is scaled out by one
    await clock.runUntil(new Date('2026-11-02T09:01:00Z'));
    const before = events.length;
    world.updateService('prod', 'web', { desiredCount: 3 });
    await clock.runUntil(new Date('2026-11-02T09:02:00Z'));

    // Assess
    expect(before).toBe(0);
    expect(events.map((e) => [e['detail-type'], e.detail.lastStatus])).toEqual([
      ['ECS Task State Change', 'PENDING'],
      ['ECS Task State Change', 'RUNNING'],
    ]);
  });
});
