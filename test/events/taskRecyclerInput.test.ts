import { loadSample } from '#events/samples';
import { readTaskRecyclerInput } from '#events/taskRecyclerInput';

const body = (value: unknown) => JSON.stringify(value);

describe('readTaskRecyclerInput', () => {
  it('turns a stopped task event into a look at its group', () => {
    // Prepare
    const event = loadSample('ecs-task-stopped-essential-exit') as {
      detail: { taskArn: string; version: number };
    };

    // Act
    const input = readTaskRecyclerInput(body(event));

    // Assess
    expect(input).toEqual({
      kind: 'request',
      request: {
        cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
        group: 'service:web',
        hint: { stoppedTaskArn: event.detail.taskArn },
      },
      taskVersion: { taskArn: event.detail.taskArn, version: event.detail.version },
    });
  });

  it('carries a placement failure as a hint, from a service action and from a stopped task', () => {
    // Prepare
    const action = loadSample('ecs-service-placement-failure-memory');
    const task = loadSample('ecs-task-stopped-standalone-batch') as { detail: Record<string, unknown> };
    task.detail.stoppedReason = 'RESOURCE:CPU';

    // Act
    const fromAction = readTaskRecyclerInput(body(action));
    const fromTask = readTaskRecyclerInput(body(task));

    // Assess
    expect(fromAction).toMatchObject({
      kind: 'request',
      request: { group: 'service:web', hint: { placementFailure: 'RESOURCE:MEMORY' } },
    });
    expect(fromTask).toMatchObject({
      request: { hint: { placementFailure: 'RESOURCE:CPU' } },
    });
  });

  it('ignores event variants it does not handle, on purpose', () => {
    // Act
    const input = readTaskRecyclerInput(body(loadSample('ecs-deployment-completed')));

    // Assess
    expect(input).toEqual({ kind: 'ignored', why: expect.stringContaining('ECS Deployment State Change') });
  });

  it.each([
    ['not JSON', '{"detail-type": "ECS Task State', 'not JSON'],
    ['an empty body', '', 'not JSON'],
    ['a JSON array', '[1,2]', 'not an EventBridge event'],
  ])('rejects %s with a reason', (_what, raw, reason) => {
    // Act
    const input = readTaskRecyclerInput(raw);

    // Assess
    expect(input).toMatchObject({ kind: 'rejected', reason: expect.stringContaining(reason) });
  });

  it('rejects a task event missing a required field and names the field', () => {
    // Prepare
    const event = loadSample('ecs-task-stopped-oom') as { detail: Record<string, unknown> };
    delete event.detail.group;

    // Act
    const input = readTaskRecyclerInput(body(event));

    // Assess
    expect(input).toMatchObject({
      kind: 'rejected',
      issues: [expect.objectContaining({ path: 'detail.group' })],
    });
  });

  it('rejects a task event whose version is not a number', () => {
    // Prepare
    const event = loadSample('ecs-task-stopped-oom') as { detail: Record<string, unknown> };
    event.detail.version = 'seven';

    // Act
    const input = readTaskRecyclerInput(body(event));

    // Assess
    expect(input).toMatchObject({
      kind: 'rejected',
      issues: [expect.objectContaining({ path: 'detail.version' })],
    });
  });
});
