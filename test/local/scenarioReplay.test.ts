// Scenarios that replay what a real account emitted: resources seeded with the ids, ARNs and tokens the
// account used (checked against the twin's account, region and clusters, each given once), raw message
// bodies sent to a named queue (as they are, or in SNS's envelope), injected events that matched no rule
// shown as such, and step files found beside the scenario file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { loadScenario, prepareTwin, repoRoot, ScenarioError, scheduleTimeline } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';
import { QueueDoesNotExist } from '#local/twin/aws/sqs';
import { DuplicateIdentityError } from '#local/twin/world';

const ARN = 'arn:aws:ecs:eu-west-1:111122223333';
const TASK = `${ARN}:task/prod/0f9e8d7c6b5a49382716f5e4d3c2b1a0`;
const CONTAINER_INSTANCE = `${ARN}:container-instance/prod/3b8d2f6a9e1c47d0b5f3a8e2c6d9b1f4`;
const TOKEN = '7c2e9a41-5d3b-4f86-a0e7-2b9c4d6f8a13';
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:prod-ecs-lifecycle';

/** A small world with every kind of given identity; each test changes one thing. */
function replayWorld() {
  return {
    name: 'replay',
    description: 'seeded identities',
    duration: '10m',
    world: {
      clusters: [
        {
          name: 'prod',
          instances: [{ count: 1, cpu: 4096, memory: 8192, ids: [{ ec2InstanceId: 'i-0a1b2c3d4e5f60718' }] }],
        },
      ],
      taskDefinitions: [{ family: 'web', revision: 1, container: { name: 'web', port: 8080 } }],
      services: [
        { cluster: 'prod', name: 'web', taskDefinition: 'web:1', desiredCount: 2, taskArns: [TASK] },
      ],
      autoScalingGroups: [
        {
          name: 'prod-asg',
          cluster: 'prod',
          min: 1,
          max: 4,
          desired: 1,
          instance: { cpu: 4096, memory: 8192 },
          ids: [{ ec2InstanceId: 'i-0c41d7e2a9b35f806' }],
          hooks: [{ name: 'drain', transition: 'terminate', heartbeatTimeout: '300s' }],
          lifecycleActions: [
            {
              hook: 'drain',
              ec2InstanceId: 'i-0e6fa4b2c1d57e038',
              containerInstanceArn: CONTAINER_INSTANCE,
              lifecycleActionToken: TOKEN,
            },
          ],
        },
      ],
      alarms: [
        {
          name: 'prod-cpu-high',
          arn: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:prod-cpu-high',
          metric: 'CPUReservation',
          comparison: 'GreaterThanThreshold',
          threshold: 80,
        },
      ],
    },
    config: { clusters: ['prod'] },
    timeline: [] as Record<string, unknown>[],
  };
}

type ReplayWorld = ReturnType<typeof replayWorld>;

/** The first problem the schema finds, as `path: message`. */
function problem(change: (scenario: ReplayWorld) => void): string {
  const scenario = replayWorld();
  change(scenario);
  const parsed = ScenarioSchema.safeParse(scenario);
  if (parsed.success) return 'accepted';
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('seeding the world with given identities', () => {
  it('accepts ids, ARNs and tokens of the twin account, region and clusters', () => {
    expect(problem(() => undefined)).toBe('accepted');
  });

  it.each([
    [
      'an ARN of another account',
      (s: ReplayWorld) => {
        s.world.services[0]!.taskArns = [TASK.replace('111122223333', '444455556666')];
      },
      /^world\.services\.0\.taskArns\.0: .* is of account 444455556666 in eu-west-1; the twin runs in account 111122223333 in eu-west-1/,
    ],
    [
      'an ARN of another region',
      (s: ReplayWorld) => {
        s.world.autoScalingGroups[0]!.lifecycleActions[0]!.containerInstanceArn = CONTAINER_INSTANCE.replace(
          'eu-west-1',
          'us-east-1',
        );
      },
      /^world\.autoScalingGroups\.0\.lifecycleActions\.0\.containerInstanceArn: .* in us-east-1; the twin runs in/,
    ],
    [
      'a task ARN of another cluster',
      (s: ReplayWorld) => {
        s.world.services[0]!.taskArns = [TASK.replace('/prod/', '/staging/')];
      },
      /names cluster staging, but it is declared in cluster prod/,
    ],
    [
      'one instance id twice',
      (s: ReplayWorld) => {
        s.world.autoScalingGroups[0]!.ids = [{ ec2InstanceId: 'i-0a1b2c3d4e5f60718' }];
      },
      /^world\.autoScalingGroups\.0\.ids\.0\.ec2InstanceId: ec2InstanceId i-0a1b2c3d4e5f60718 is given twice \(first at world\.clusters\.0\.instances\.0\.ids\.0\.ec2InstanceId\)/,
    ],
    [
      'one task ARN for a service task and a started task',
      (s: ReplayWorld) => {
        s.timeline.push({
          at: '1m',
          runTask: { cluster: 'prod', taskDefinition: 'web:1', taskArns: [TASK] },
        });
      },
      /^timeline\.0\.runTask\.taskArns\.0: taskArn .* is given twice/,
    ],
    [
      'one lifecycle action token twice',
      (s: ReplayWorld) => {
        const group = s.world.autoScalingGroups[0]!;
        group.lifecycleActions.push({
          ...group.lifecycleActions[0]!,
          ec2InstanceId: 'i-0d58e3f1b0a46c927',
          containerInstanceArn: CONTAINER_INSTANCE.replace('3b8d', '4c9e'),
        });
      },
      /lifecycleActions\.1\.lifecycleActionToken: lifecycleActionToken .* is given twice/,
    ],
    [
      'more task ARNs than tasks',
      (s: ReplayWorld) => {
        s.world.services[0]!.desiredCount = 0;
      },
      /^world\.services\.0\.taskArns: 1 ids given for 0 task\(s\)/,
    ],
    [
      'a lifecycle action of a hook the group lacks',
      (s: ReplayWorld) => {
        s.world.autoScalingGroups[0]!.lifecycleActions[0]!.hook = 'launch';
      },
      /lifecycleActions\.0\.hook: no hook launch on this group \(drain\)/,
    ],
    [
      'an alarm ARN naming another alarm',
      (s: ReplayWorld) => {
        s.world.alarms[0]!.arn = 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:prod-cpu-low';
      },
      /^world\.alarms\.0\.arn: .* names alarm prod-cpu-low, not prod-cpu-high/,
    ],
    [
      'an instance id EC2 would not give',
      (s: ReplayWorld) => {
        s.world.autoScalingGroups[0]!.ids = [{ ec2InstanceId: 'i-xyz' }];
      },
      /an EC2 instance id/,
    ],
  ])('refuses %s with the field at fault', (_what, change, message) => {
    expect(problem(change)).toMatch(message);
  });

  it('builds the world under the given ids, with the lifecycle action waiting under its token', () => {
    // Act
    const twin = prepareTwin(ScenarioSchema.parse(replayWorld()));

    // Assess
    const task = twin.world.tasks.get(TASK);
    expect(task).toMatchObject({ id: '0f9e8d7c6b5a49382716f5e4d3c2b1a0', group: 'service:web' });
    expect(twin.world.instance('i-0a1b2c3d4e5f60718')?.cluster).toBe('prod');
    expect(twin.scaling.group('prod-asg').instances).toEqual(['i-0c41d7e2a9b35f806']);
    expect(twin.world.instance('i-0e6fa4b2c1d57e038')?.containerInstanceArn).toBe(CONTAINER_INSTANCE);
    expect(twin.scaling.lifecycleState('i-0e6fa4b2c1d57e038')).toBe('Terminating:Wait');
    expect(
      twin.lifecycle.activeAction({ groupName: 'prod-asg', hookName: 'drain', token: TOKEN }),
    ).toMatchObject({ instanceId: 'i-0e6fa4b2c1d57e038', transition: 'terminate' });
    // Seeded, not announced: the scenario replays what was delivered.
    expect(twin.lifecycle.emitted).toEqual([]);
  });

  it('completes the seeded action by its token, and the instance goes', async () => {
    // Prepare
    const twin = prepareTwin(ScenarioSchema.parse(replayWorld()));
    twin.start();

    // Act
    const seeded = twin.lifecycle.activeAction({ groupName: 'prod-asg', hookName: 'drain', token: TOKEN });
    twin.lifecycle.complete(seeded!, 'CONTINUE');
    await twin.runFor(30);

    // Assess
    expect(twin.lifecycle.completions).toEqual([
      expect.objectContaining({ token: TOKEN, result: 'CONTINUE' }),
    ]);
    expect(twin.world.instance('i-0e6fa4b2c1d57e038')).toBeUndefined();
    expect(twin.scaling.group('prod-asg').instances).toEqual(['i-0c41d7e2a9b35f806']);
  });

  it('holds a seeded launch action in Pending:Wait, counted in the desired capacity', async () => {
    // Prepare
    const scenario = replayWorld();
    const group = scenario.world.autoScalingGroups[0]!;
    group.desired = 2;
    group.hooks = [{ name: 'drain', transition: 'launch', heartbeatTimeout: '300s' }];
    const twin = prepareTwin(ScenarioSchema.parse(scenario));
    twin.start();

    // Act
    await twin.runFor(60);

    // Assess: no instance launched for it; it waits for its hook
    expect(twin.scaling.lifecycleState('i-0e6fa4b2c1d57e038')).toBe('Pending:Wait');
    expect(twin.scaling.group('prod-asg')).toMatchObject({
      instances: ['i-0c41d7e2a9b35f806'],
      launching: 0,
    });
  });

  it('refuses an id the world holds already, in the world and the lifecycle alike', () => {
    // Prepare
    const twin = prepareTwin(ScenarioSchema.parse(replayWorld()));

    // Act
    const sameInstance = () =>
      twin.world.addInstance('prod', 1024, 2048, undefined, { ec2InstanceId: 'i-0a1b2c3d4e5f60718' });
    const sameTask = () => twin.world.runTask({ cluster: 'prod', taskDefinitionArn: 'web:1', taskArn: TASK });
    const sameToken = () =>
      twin.lifecycle.seedAction({
        groupName: 'prod-asg',
        hookName: 'drain',
        instanceId: 'i-0c41d7e2a9b35f806',
        token: TOKEN,
        startedAt: twin.scheduler.now(),
      });

    // Assess
    expect(sameInstance).toThrow(DuplicateIdentityError);
    expect(sameTask).toThrow(DuplicateIdentityError);
    expect(sameToken).toThrow(DuplicateIdentityError);
  });
});

describe('sending a raw message body to a named queue', () => {
  const notification = {
    LifecycleHookName: 'drain',
    AccountId: '111122223333',
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    AutoScalingGroupName: 'prod-asg',
    EC2InstanceId: 'i-0e6fa4b2c1d57e038',
    LifecycleActionToken: TOKEN,
  };

  /** The bodies the queue's consumer received, sending each step at 10 s. */
  async function received(queue: string, sendMessage: Record<string, unknown>[]): Promise<SQSRecord[]> {
    const scenario = replayWorld();
    scenario.timeline = sendMessage.map((message) => ({ at: '10s', sendMessage: { queue, ...message } }));
    const parsed = ScenarioSchema.parse(scenario);
    const twin = prepareTwin(parsed);
    const records: SQSRecord[] = [];
    twin.sqsQueues.find((q) => q.name === queue)!.watch((record) => records.push(record));
    scheduleTimeline(twin, parsed);
    twin.start();
    await twin.runFor(20);
    return records;
  }

  it('delivers a string as it is and JSON as compact text', async () => {
    // Act
    const records = await received('lifecycle-notifications', [
      { body: 'not json at all' },
      { body: notification },
    ]);

    // Assess
    expect(records.map((r) => r.body)).toEqual(['not json at all', JSON.stringify(notification)]);
  });

  it("wraps the body in SNS's envelope, naming the topic", async () => {
    // Act
    const [record] = await received('lifecycle-notifications', [
      { body: notification, sns: { topicArn: TOPIC, subject: 'Auto Scaling: lifecycle action' } },
    ]);

    // Assess
    const envelope = JSON.parse(record!.body);
    expect(envelope).toMatchObject({
      Type: 'Notification',
      TopicArn: TOPIC,
      Subject: 'Auto Scaling: lifecycle action',
      Message: JSON.stringify(notification),
      SignatureVersion: '1',
    });
    expect(envelope.MessageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("reaches the task recycler's buffer queue too", async () => {
    // Act
    const records = await received('task-recycler-buffer', [{ body: { hello: 'recycler' } }]);

    // Assess
    expect(records.map((r) => r.body)).toEqual(['{"hello":"recycler"}']);
  });

  it.each([
    [
      { queue: 'lifecycle-queue', body: 'x' },
      /unknown queue "lifecycle-queue"; the twin's queues are task-recycler-buffer, lifecycle-notifications/,
    ],
    [{ queue: 'lifecycle-notifications' }, /give exactly one of body and bodyFile/],
    [
      { queue: 'lifecycle-notifications', body: 'x', bodyFile: 'x.json' },
      /give exactly one of body and bodyFile/,
    ],
    [
      { queue: 'lifecycle-notifications', body: 'x', sns: { topicArn: 'prod-ecs-lifecycle' } },
      /an SNS topic ARN/,
    ],
  ])('refuses %j', (sendMessage, message) => {
    expect(problem((s) => s.timeline.push({ at: '1m', sendMessage }))).toMatch(message);
  });

  it('refuses a send to a queue the twin does not have, as SQS does', () => {
    // Prepare
    const twin = prepareTwin(ScenarioSchema.parse(replayWorld()));

    // Act
    const send = () => twin.sendMessage('nowhere', '{}');

    // Assess
    expect(send).toThrow(QueueDoesNotExist);
    expect(send).toThrow(/the twin's queues are task-recycler-buffer, lifecycle-notifications/);
  });
});

describe('injected events', () => {
  it('shows an injected event that matched no rule as such, and a matched one without it', async () => {
    // Prepare
    const twin = prepareTwin(ScenarioSchema.parse(replayWorld()));

    // Act
    twin.inject({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} });
    twin.inject({
      source: 'aws.autoscaling',
      'detail-type': 'EC2 Instance-terminate Lifecycle Action',
      detail: {},
    });

    // Assess
    expect(twin.timeline.entries.map((e) => e.text)).toEqual([
      'injected EC2 Instance State-change Notification: matched no rule',
      'injected EC2 Instance-terminate Lifecycle Action',
    ]);
  });
});

describe('files a scenario step names', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scenario-files-'));
    writeFileSync(join(dir, 'event.json'), '{"source":"aws.ec2","detail-type":"x","detail":{}}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const scenarioWith = (timeline: Record<string, unknown>[]) => {
    const path = join(dir, `scenario-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(path, JSON.stringify({ ...replayWorld(), timeline }));
    return path;
  };

  it('finds a relative path beside the scenario file and keeps an absolute one', () => {
    // Prepare
    const absolute = join(repoRoot, 'events', 'samples', 'ecs-task-stopped-oom.json');
    const path = scenarioWith([
      { at: '1m', inject: { file: 'event.json' } },
      { at: '2m', inject: { file: absolute } },
      { at: '3m', sendMessage: { queue: 'lifecycle-notifications', bodyFile: './event.json' } },
    ]);

    // Act
    const scenario = loadScenario(path);

    // Assess
    expect(scenario.timeline).toEqual([
      expect.objectContaining({ inject: { file: join(dir, 'event.json') } }),
      expect.objectContaining({ inject: { file: absolute } }),
      expect.objectContaining({
        sendMessage: expect.objectContaining({ bodyFile: join(dir, 'event.json') }),
      }),
    ]);
  });

  it('refuses a file that is not there, naming the step', () => {
    // Prepare
    const path = scenarioWith([{ at: '1m', inject: { file: 'events/samples/ecs-task-stopped-oom.json' } }]);

    // Act
    const load = () => loadScenario(path);

    // Assess
    expect(load).toThrow(ScenarioError);
    expect(load).toThrow(
      /timeline\.0\.inject\.file: no file .*scenario-files-.*events\/samples\/ecs-task-stopped-oom\.json/,
    );
  });
});
