// AWS calls per action on the twin, from the calls the twin records for each Lambda invocation: the
// actions brought to their design minimum stay there (a re-read of the route, an ARN look-up before
// tagging, the memory's tags read apart from the group), and no measured action exceeds its row of
// bench/callBudgets.ts.
import { measureScenarioCalls } from '../../bench/actionCalls';
import { describeExcess } from '../../bench/callBudgets';

const apisOf = async (file: string, action: string) =>
  (await measureScenarioCalls(file)).measured
    .filter((m) => m.actions.join(' + ') === action)
    .map((m) => m.apis);

describe('the alarm reactor, on alarm-surge-restore', () => {
  it('applies in six calls: the alarm, the group with its tags, remember, write, mark done, tell people', async () => {
    // Act
    const applies = await apisOf('alarm-surge-restore.json', 'apply (group capacity)');

    // Assess
    expect(applies).toEqual([
      [
        'DescribeAutoScalingGroups',
        'DescribeAlarms',
        'CreateOrUpdateTags',
        'SetDesiredCapacity',
        'CreateOrUpdateTags',
        'Publish',
      ],
    ]);
  });

  it('restores in five: the alarm, the group with its tags, write, forget in one tag write, tell people', async () => {
    // Act
    const restores = await apisOf('alarm-surge-restore.json', 'restore (group capacity)');

    // Assess
    expect(restores).toEqual([
      ['DescribeAutoScalingGroups', 'DescribeAlarms', 'SetDesiredCapacity', 'CreateOrUpdateTags', 'Publish'],
    ]);
  });
});

describe.each([
  [
    'rollout-alb-promoted.json',
    'ALB',
    ['DescribeRules', 'DescribeTags'],
    'ModifyRule',
    'AddTags',
    'RemoveTags',
  ],
  [
    'rollout-mesh-promoted.json',
    'App Mesh',
    ['DescribeRoute', 'ListTagsForResource'],
    'UpdateRoute',
    'TagResource',
    'UntagResource',
  ],
  [
    'rollout-lattice-default-promoted.json',
    'VPC Lattice',
    ['GetListener', 'ListTagsForResource'],
    'UpdateListener',
    'TagResource',
    'UntagResource',
  ],
])('a rollout on %s', (file, router, read, write, tag, untag) => {
  it('claims the route with one read of it, tags it without looking its ARN up, and tells people', async () => {
    // Act
    const prepares = await apisOf(file, `prepare (${router})`);

    // Assess
    expect(prepares).toEqual([[...read, 'GetItem', 'PutItem', tag, 'Publish']]);
  });

  it('shifts each step with one read of the route: the write sends back what it answered', async () => {
    // Act
    const shifts = await apisOf(file, `shift (${router})`);

    // Assess
    expect(shifts.length).toBeGreaterThan(0);
    for (const shift of shifts) expect(shift).toEqual([...read, write]);
  });

  it('verifies with a read of its own (VerifyWeight)', async () => {
    // Act
    const verifies = await apisOf(file, `verify (${router})`);

    // Assess
    for (const verify of verifies) expect(verify).toEqual([read[0]]);
  });

  it('promotes with one read, the write, its read back, the release, and tells people', async () => {
    // Act
    const promotes = await apisOf(file, `promote (${router})`);

    // Assess
    expect(promotes).toEqual([[...read, write, read[0], untag, 'DeleteItem', 'Publish']]);
  });
});

describe('GET /deployments, after native-hook-gate-resumed', () => {
  it("reads ECS once a served service, all listed deployments in one call, and the journal for the hook's and the gate's answers", async () => {
    // Act
    const { measured } = await measureScenarioCalls('native-hook-gate-resumed.json');
    const reads = measured.filter((m) => m.actions.some((a) => a.startsWith('GET /deployments')));

    // Assess: one served service with one deployment; two journal reads, each of the one log group of the
    // function that journals its reflex (the hook's answers in deploymentHook's, the gate answers in opsWrite's)
    expect(reads.map((m) => m.actions)).toEqual([
      ['GET /deployments'],
      ['GET /deployments/{cluster}/{service}'],
    ]);
    for (const read of reads) {
      const counts = Object.fromEntries(
        [...new Set(read.apis)].map((api) => [api, read.apis.filter((a) => a === api).length]),
      );
      expect(counts).toEqual({
        ListServiceDeployments: 1,
        DescribeServiceDeployments: 1,
        FilterLogEvents: 2,
      });
      expect(read).toMatchObject({ asserted: true, excess: [] });
    }
  });
});

describe.each([
  'alarm-surge-restore.json',
  'rollout-alb-promoted.json',
  'rollout-mesh-promoted.json',
  'rollout-lattice-bad-rolled-back.json',
  'rollout-bad-5xx.json',
  'rollout-guard-alarm.json',
  'lifecycle-scale-in-drain.json',
  'native-hook-gate-resumed.json',
])('%s', (file) => {
  it('makes no call beyond the design minimum of any action held to it', async () => {
    // Act
    const { measured, unclassified } = await measureScenarioCalls(file);

    // Assess
    const over = measured
      .filter((m) => m.asserted && m.excess.length > 0)
      .map((m) => `${m.invocation} (${m.actions.join(' + ')}): ${describeExcess(m.excess)}`);
    expect(over).toEqual([]);
    expect(unclassified).toEqual([]);
  });
});
