import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  type CreateOrUpdateTagsCommandInput,
  DescribeTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  ClusterNotFoundException,
  DescribeServicesCommand,
  ECSClient,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import fc from 'fast-check';
import { ScalingKnobNotFound } from '#adapters/aws/scalingControls';
import {
  decodeRecord,
  encodeRecord,
  ReactionRecordTooLarge,
  TagReactionMemory,
} from '#adapters/aws/tagReactionMemory';
import { type KnobValue, type ReactionRecord, type ScalingTarget, sameValue } from '#domain/alarmReactions';

const autoScaling = mockClient(AutoScalingClient);
const ecs = mockClient(ECSClient);
const newMemory = () =>
  new TagReactionMemory({
    autoScaling: autoScaling as unknown as AutoScalingClient,
    ecs: ecs as unknown as ECSClient,
  });

const GROUP: ScalingTarget = { kind: 'auto-scaling-group', name: 'prod-ecs-instances' };
const SERVICE: ScalingTarget = { kind: 'ecs-service', cluster: 'prod', service: 'web' };
const SERVICE_ARN = 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web';
const AT = new Date('2026-11-02T09:00:00.000Z');
const LATER = new Date('2026-11-02T09:05:00.000Z');

/** What ECS accepts in a tag value (its API model's pattern). */
const ECS_TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const record = (changes: Partial<ReactionRecord> = {}): ReactionRecord => ({
  alarm: 'web-latency-high',
  before: 4,
  set: 6,
  at: AT,
  ...changes,
});

const groupTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({
    ResourceId: 'prod-ecs-instances',
    ResourceType: 'auto-scaling-group',
    Key,
    Value,
    PropagateAtLaunch: false,
  }));

const service = (tags: Record<string, string>) => ({
  services: [
    {
      serviceName: 'web',
      serviceArn: SERVICE_ARN,
      status: 'ACTIVE',
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    },
  ],
});

beforeEach(() => {
  autoScaling.reset();
  ecs.reset();
});

describe('on an Auto Scaling group', () => {
  it('loads the records and the last change from the group tags, other tags left alone', async () => {
    // Prepare
    autoScaling.on(DescribeTagsCommand).resolves({
      Tags: groupTags({
        'ecs-reflex:reaction:scale-out': 't=2026-11-02T09:00:00.000Z b=4 s=6 a=web-latency-high',
        'ecs-reflex:last-change': '2026-11-02T09:00:00.000Z',
        team: 'platform',
      }),
    });

    // Act
    const memory = await newMemory().load(GROUP);

    // Assess
    expect(memory).toEqual({
      records: { 'scale-out': { alarm: 'web-latency-high', before: 4, set: 6, at: AT } },
      lastChangeAt: AT,
    });
    expect(autoScaling.commandCalls(DescribeTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Name: 'auto-scaling-group', Values: ['prod-ecs-instances'] }] },
    ]);
  });

  it('follows NextToken through every page of tags', async () => {
    // Prepare
    autoScaling
      .on(DescribeTagsCommand)
      .resolvesOnce({ Tags: groupTags({ team: 'platform' }), NextToken: 'page-2' })
      .resolvesOnce({ Tags: groupTags({ 'ecs-reflex:last-change': '2026-11-02T09:00:00.000Z' }) });

    // Act
    const memory = await newMemory().load(GROUP);

    // Assess
    expect(memory).toEqual({ records: {}, lastChangeAt: AT });
    expect(autoScaling.commandCalls(DescribeTagsCommand)[1]!.args[0].input.NextToken).toBe('page-2');
  });

  it('remembers nothing for a group without tags (or without a group)', async () => {
    // Prepare
    autoScaling.on(DescribeTagsCommand).resolves({ Tags: [] });

    // Act
    const memory = await newMemory().load(GROUP);

    // Assess
    expect(memory).toEqual({ records: {} });
  });

  it('saves a record and the last change in one call, not propagated to instances', async () => {
    // Prepare
    autoScaling.on(CreateOrUpdateTagsCommand).resolves({});

    // Act
    await newMemory().save(GROUP, { reactionId: 'scale-out', record: record(), lastChangeAt: AT });

    // Assess
    expect(autoScaling.commandCalls(CreateOrUpdateTagsCommand).map((c) => c.args[0].input)).toEqual([
      {
        Tags: [
          {
            ResourceId: 'prod-ecs-instances',
            ResourceType: 'auto-scaling-group',
            Key: 'ecs-reflex:reaction:scale-out',
            Value: 't=2026-11-02T09:00:00.000Z b=4 s=6 a=web-latency-high',
            PropagateAtLaunch: false,
          },
          {
            ResourceId: 'prod-ecs-instances',
            ResourceType: 'auto-scaling-group',
            Key: 'ecs-reflex:last-change',
            Value: '2026-11-02T09:00:00.000Z',
            PropagateAtLaunch: false,
          },
        ],
      },
    ]);
    expect(autoScaling.calls()).toHaveLength(1);
  });

  it('forgets a record by emptying its tag, in the same write as the last change', async () => {
    // Prepare
    autoScaling.on(CreateOrUpdateTagsCommand).resolves({});

    // Act
    await newMemory().save(GROUP, { reactionId: 'scale-out', record: null, lastChangeAt: LATER });

    // Assess
    expect(autoScaling.commandCalls(CreateOrUpdateTagsCommand).map((c) => c.args[0].input)).toEqual([
      {
        Tags: [
          {
            ResourceId: 'prod-ecs-instances',
            ResourceType: 'auto-scaling-group',
            Key: 'ecs-reflex:reaction:scale-out',
            Value: '',
            PropagateAtLaunch: false,
          },
          {
            ResourceId: 'prod-ecs-instances',
            ResourceType: 'auto-scaling-group',
            Key: 'ecs-reflex:last-change',
            Value: '2026-11-02T09:05:00.000Z',
            PropagateAtLaunch: false,
          },
        ],
      },
    ]);
    expect(autoScaling.calls()).toHaveLength(1);
  });

  it('reads an emptied record as no record', async () => {
    // Prepare
    autoScaling.on(DescribeTagsCommand).resolves({
      Tags: [
        { ResourceId: 'prod-ecs-instances', Key: 'ecs-reflex:reaction:scale-out', Value: '' },
        {
          ResourceId: 'prod-ecs-instances',
          Key: 'ecs-reflex:last-change',
          Value: '2026-11-02T09:05:00.000Z',
        },
      ],
    });

    // Act
    const memory = await newMemory().load(GROUP);

    // Assess
    expect(memory).toEqual({ records: {}, lastChangeAt: LATER });
  });
});

describe('on an ECS service', () => {
  it('loads the records from the service tags', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves(
      service({
        'ecs-reflex:reaction:range': 't=2026-11-02T09:00:00.000Z b=2..10 s=4..20 a=web-latency-high',
        'ecs-reflex:last-change': '2026-11-02T09:00:00.000Z',
      }),
    );

    // Act
    const memory = await newMemory().load(SERVICE);

    // Assess
    expect(memory).toEqual({
      records: {
        range: { alarm: 'web-latency-high', before: { min: 2, max: 10 }, set: { min: 4, max: 20 }, at: AT },
      },
      lastChangeAt: AT,
    });
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', services: ['web'], include: ['TAGS'] },
    ]);
  });

  it.each([
    ['missing', { services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] }],
    ['deleted', { services: [{ serviceName: 'web', serviceArn: SERVICE_ARN, status: 'INACTIVE' }] }],
  ])('remembers nothing for a %s service', async (_, output) => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves(output);

    // Act
    const memory = await newMemory().load(SERVICE);

    // Assess
    expect(memory).toEqual({ records: {} });
  });

  it('remembers nothing when the cluster does not exist', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));

    // Act
    const memory = await newMemory().load(SERVICE);

    // Assess
    expect(memory).toEqual({ records: {} });
  });

  it('tags the service ARN it saw when loading, with no second look', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves(service({}));
    ecs.on(TagResourceCommand).resolves({});
    const memory = newMemory();
    await memory.load(SERVICE);

    // Act
    await memory.save(SERVICE, {
      reactionId: 'range',
      record: record({ before: { min: 2, max: 10 }, set: { min: 4, max: 20 } }),
      lastChangeAt: AT,
    });

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      {
        resourceArn: SERVICE_ARN,
        tags: [
          {
            key: 'ecs-reflex:reaction:range',
            value: 't=2026-11-02T09:00:00.000Z b=2..10 s=4..20 a=web-latency-high',
          },
          { key: 'ecs-reflex:last-change', value: '2026-11-02T09:00:00.000Z' },
        ],
      },
    ]);
    expect(ecs.commandCalls(TagResourceCommand)).toHaveLength(1);
  });

  it('looks the service up when it saves before any load', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves(service({}));
    ecs.on(TagResourceCommand).resolves({});

    // Act
    await newMemory().save(SERVICE, { reactionId: 'range', record: null, lastChangeAt: LATER });

    // Assess
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      {
        resourceArn: SERVICE_ARN,
        tags: [
          { key: 'ecs-reflex:reaction:range', value: '' },
          { key: 'ecs-reflex:last-change', value: '2026-11-02T09:05:00.000Z' },
        ],
      },
    ]);
  });

  it('fails with ScalingKnobNotFound when saving on a service that does not exist', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] });

    // Act
    const saving = newMemory().save(SERVICE, { reactionId: 'range', record: null, lastChangeAt: LATER });

    // Assess
    await expect(saving).rejects.toThrow(ScalingKnobNotFound);
    expect(ecs).not.toHaveReceivedCommand(TagResourceCommand);
  });
});

describe('records in tag values', () => {
  it.each<[string, KnobValue, string]>([
    ['a count', 6, '6'],
    ['a target value with decimals', 62.5, '62.5'],
    ['scale-in suspended', false, 'false'],
    ['a capacity range', { min: 4, max: 20 }, '4..20'],
    [
      'step adjustments with open bounds',
      [
        { upper: 0, adjustment: -1 },
        { lower: 0, upper: 10.5, adjustment: 1 },
        { lower: 10.5, adjustment: 3 },
      ],
      ':0:-1/0:10.5:1/10.5::3',
    ],
    ['no steps at all', [], 'none'],
  ])('writes %s compactly and reads it back exactly', (_, value, written) => {
    // Act
    const text = encodeRecord('r', record({ set: value }));
    const decoded = decodeRecord(text);

    // Assess
    expect(text).toBe(`t=2026-11-02T09:00:00.000Z b=4 s=${written} a=web-latency-high`);
    expect(decoded).toEqual(record({ set: value }));
    // The domain compares values as JSON, so the key order must come back as well.
    expect(JSON.stringify(decoded?.set)).toBe(JSON.stringify(value));
  });

  it('escapes what ECS refuses in an alarm name, and reads it back', () => {
    // Prepare
    const alarm = 'p99 latency > 800ms (web, "prod") #1 @ops 100% ✓';

    // Act
    const text = encodeRecord('r', record({ alarm }));

    // Assess
    expect(text).toMatch(ECS_TAG_VALUE);
    expect(text).toContain('a=p99 latency @003e 800ms @0028web@002c @0022prod@0022@0029');
    expect(decodeRecord(text)?.alarm).toBe(alarm);
  });

  it('round-trips any record through the tags of a group', async () => {
    // Prepare
    const number = fc.oneof(
      fc.integer({ min: -1000, max: 100_000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    );
    const value: fc.Arbitrary<KnobValue> = fc.oneof(
      number,
      fc.boolean(),
      fc.record({ min: fc.nat(1000), max: fc.nat(1000) }),
      fc.array(
        fc.record(
          { lower: number, upper: number, adjustment: fc.integer({ min: -100, max: 100 }) },
          { requiredKeys: ['adjustment'] },
        ),
        { minLength: 1, maxLength: 2 },
      ),
    );
    const records = fc.record({
      alarm: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      before: value,
      set: value,
      at: fc.date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
    });
    autoScaling.on(CreateOrUpdateTagsCommand).resolves({});
    autoScaling.on(DescribeTagsCommand).callsFake(() => {
      const input = autoScaling.commandCalls(CreateOrUpdateTagsCommand).at(-1)!.args[0]
        .input as CreateOrUpdateTagsCommandInput;
      return { Tags: input.Tags };
    });

    await fc.assert(
      fc.asyncProperty(records, async (saved) => {
        // Act
        const memory = newMemory();
        let tooLarge = false;
        try {
          await memory.save(GROUP, { reactionId: 'any', record: saved, lastChangeAt: saved.at });
        } catch (error) {
          if (!(error instanceof ReactionRecordTooLarge)) throw error;
          tooLarge = true;
        }
        if (tooLarge) return;
        const loaded = await memory.load(GROUP);

        // Assess
        const written = autoScaling.commandCalls(CreateOrUpdateTagsCommand).at(-1)!.args[0].input.Tags![0]!
          .Value!;
        expect(written).toMatch(ECS_TAG_VALUE);
        expect(written.length).toBeLessThanOrEqual(256);
        expect(loaded.records.any).toEqual(saved);
        expect(sameValue(loaded.records.any!.before, saved.before)).toBe(true);
        expect(sameValue(loaded.records.any!.set, saved.set)).toBe(true);
        expect(loaded.lastChangeAt).toEqual(saved.at);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the 256-character limit', () => {
  // `t=<24 characters> b=4 s=6 a=` takes 37 characters, which leaves 219 for the alarm name.
  it('takes a record of exactly 256 characters', async () => {
    // Prepare
    autoScaling.on(CreateOrUpdateTagsCommand).resolves({});

    // Act
    await newMemory().save(GROUP, {
      reactionId: 'r',
      record: record({ alarm: 'a'.repeat(219) }),
      lastChangeAt: AT,
    });

    // Assess
    const value = autoScaling.commandCalls(CreateOrUpdateTagsCommand)[0]!.args[0].input.Tags![0]!.Value!;
    expect(value).toHaveLength(256);
  });

  it('throws ReactionRecordTooLarge one character over, and writes nothing', async () => {
    // Act
    const saving = newMemory().save(GROUP, {
      reactionId: 'r',
      record: record({ alarm: 'a'.repeat(220) }),
      lastChangeAt: AT,
    });

    // Assess
    await expect(saving).rejects.toThrow(ReactionRecordTooLarge);
    await expect(saving).rejects.toMatchObject({
      name: 'ReactionRecordTooLarge',
      reactionId: 'r',
      length: 257,
    });
    expect(autoScaling).not.toHaveReceivedAnyCommand();
  });

  it('counts escaped characters at their escaped length', () => {
    // Act / Assess
    expect(() => encodeRecord('r', record({ alarm: '#'.repeat(50) }))).toThrow(ReactionRecordTooLarge);
  });
});

describe('tags a person edited', () => {
  it.each([
    ['empty', ''],
    ['free text', 'scaled out by hand, do not touch'],
    ['JSON', '{"alarm":"web-latency-high","before":4,"set":6,"at":"2026-11-02T09:00:00.000Z"}'],
    ['a bad time', 't=yesterday b=4 s=6 a=web-latency-high'],
    ['an impossible time', 't=2026-13-45T99:00:00.000Z b=4 s=6 a=web-latency-high'],
    ['a bad value', 't=2026-11-02T09:00:00.000Z b=four s=6 a=web-latency-high'],
    ['a bad step', 't=2026-11-02T09:00:00.000Z b=0:1 s=6 a=web-latency-high'],
    ['a half range', 't=2026-11-02T09:00:00.000Z b=4.. s=6 a=web-latency-high'],
    ['no alarm', 't=2026-11-02T09:00:00.000Z b=4 s=6 a='],
    ['fields out of order', 'b=4 t=2026-11-02T09:00:00.000Z s=6 a=web-latency-high'],
  ])('ignores a record that is %s, and keeps the others', async (_, value) => {
    // Prepare
    autoScaling.on(DescribeTagsCommand).resolves({
      Tags: groupTags({
        'ecs-reflex:reaction:edited': value,
        'ecs-reflex:reaction:intact': 't=2026-11-02T09:00:00.000Z b=true s=false a=queue-age-high',
      }),
    });

    // Act
    const memory = await newMemory().load(GROUP);

    // Assess
    expect(memory.records).toEqual({ intact: { alarm: 'queue-age-high', before: true, set: false, at: AT } });
  });

  it.each(['', 'soon', '2026-11-02', '1793610000'])('ignores a last change of %p', async (value) => {
    // Prepare
    autoScaling.on(DescribeTagsCommand).resolves({ Tags: groupTags({ 'ecs-reflex:last-change': value }) });

    // Act
    const memory = await newMemory().load(GROUP);

    // Assess
    expect(memory).toEqual({ records: {} });
  });
});
