import fc from 'fast-check';
import {
  type DeploymentFacts,
  decideHookAnswer,
  GATE_TAG_KEY,
  gateAnswerFor,
  gateTagValue,
  HOOK_STAGES,
  type HookSettings,
  type HookSituation,
  type HookState,
  hookChecks,
  loadBalancerDimension,
  MAX_CALLBACK_SECONDS,
  MIN_CALLBACK_SECONDS,
  readGateTag,
  targetGroupDimension,
  testsDue,
} from '#domain/deploymentHook';
import { metricQueries, type Observations } from '#domain/rolloutAnalysis';

const GREEN_TG =
  'arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/checkout-green/1827a3b4c5d6e7f8';
const BLUE_TG =
  'arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/checkout-blue/a1b2c3d4e5f60718';
const NOW = new Date('2026-12-07T11:00:00Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

const alb: DeploymentFacts = {
  rollingBack: false,
  greenProductionWeight: 10,
  traffic: {
    kind: 'alb',
    loadBalancer: 'app/shop-public/4c1e9a7b20d35f68',
    green: { targetGroupArn: GREEN_TG },
    blue: { targetGroupArn: BLUE_TG },
  },
};

const settings: HookSettings = {
  checks: [
    { name: 'errors', kind: 'errorRate', minRequests: 100, maxRelativeToStable: 2 },
    { name: 'healthy', kind: 'targetHealth', minHealthyPercent: 100 },
  ],
  tests: [],
  guardAlarms: ['checkout-5xx'],
  limits: {
    intervalSeconds: 60,
    passesRequired: 1,
    failureLimit: 0,
    inconclusiveLimit: 3,
    errorLimit: 2,
  },
  gates: [],
};

const quiet: Observations = { metrics: {}, alarms: { 'checkout-5xx': 'OK' }, targetHealth: {} };

/** Metrics of the first check (index 0) for green (canary) and blue (stable). */
function errorMetrics(green: { requests: number; errors: number }, blue = { requests: 1000, errors: 1 }) {
  return {
    c0_requests_canary: green.requests,
    c0_errors_canary: green.errors,
    c0_requests_stable: blue.requests,
    c0_errors_stable: blue.errors,
  };
}

const healthy = { [GREEN_TG]: { healthy: 4, total: 4 } };

function situation(changes: Partial<HookSituation> = {}): HookSituation {
  return {
    stage: 'PRODUCTION_TRAFFIC_SHIFT',
    now: NOW,
    settings,
    state: undefined,
    deployment: alb,
    observations: quiet,
    ...changes,
  };
}

/** The state an earlier invocation of this stage left, `startedMinutesAgo` ago. */
function earlier(startedMinutesAgo: number, changes: Partial<HookState> = {}): HookState {
  const at = minutes(-startedMinutesAgo).toISOString();
  return {
    stage: 'PRODUCTION_TRAFFIC_SHIFT',
    weight: 10,
    startedAt: at,
    windowStart: at,
    counts: { failures: 0, inconclusive: 0, errors: 0 },
    passes: 0,
    analyses: 0,
    ...changes,
  };
}

describe('deployment hook decision', () => {
  it('waits for the first published minute of green traffic before judging it', () => {
    const answer = decideHookAnswer(situation());

    expect(answer.hookStatus).toBe('IN_PROGRESS');
    expect(answer.callBackDelay).toBeGreaterThanOrEqual(60);
    expect(answer.state).toMatchObject({ stage: 'PRODUCTION_TRAFFIC_SHIFT', weight: 10, analyses: 0 });
  });

  it('succeeds once green is no worse than blue over a published window', () => {
    const answer = decideHookAnswer(
      situation({
        state: earlier(3),
        observations: {
          ...quiet,
          metrics: errorMetrics({ requests: 200, errors: 0 }),
          targetHealth: healthy,
        },
      }),
    );

    expect(answer.hookStatus).toBe('SUCCEEDED');
    expect(answer.outcomes.map((o) => `${o.check} ${o.result}`)).toEqual([
      'errors pass',
      'healthy pass',
      'guard checkout-5xx pass',
    ]);
  });

  it('fails when green errs more than the limit allows, with the analysis as the reason', () => {
    const answer = decideHookAnswer(
      situation({
        state: earlier(3),
        observations: {
          ...quiet,
          metrics: errorMetrics({ requests: 200, errors: 40 }),
          targetHealth: healthy,
        },
      }),
    );

    expect(answer).toMatchObject({ hookStatus: 'FAILED', reason: '1 failed analysis run(s), limit 0' });
    expect(answer.state).toBeUndefined();
  });

  it('asks again while evidence is inconclusive, keeping the window so evidence adds up', () => {
    const state = earlier(3);
    const answer = decideHookAnswer(
      situation({
        state,
        observations: { ...quiet, metrics: errorMetrics({ requests: 20, errors: 0 }), targetHealth: healthy },
      }),
    );

    expect(answer).toMatchObject({ hookStatus: 'IN_PROGRESS', callBackDelay: 60 });
    expect(answer.state).toMatchObject({ windowStart: state.windowStart, counts: { inconclusive: 1 } });
  });

  it('fails at once when a guard alarm is in ALARM, whatever the analysis', () => {
    const answer = decideHookAnswer(
      situation({ state: earlier(3), observations: { ...quiet, alarms: { 'checkout-5xx': 'ALARM' } } }),
    );

    expect(answer).toMatchObject({ hookStatus: 'FAILED', reason: 'alarm checkout-5xx is in ALARM' });
  });

  it('never holds a rollback: SUCCEEDED even with a guard alarm firing', () => {
    const answer = decideHookAnswer(
      situation({
        deployment: { ...alb, rollingBack: true },
        observations: { ...quiet, alarms: { 'checkout-5xx': 'ALARM' } },
      }),
    );

    expect(answer.hookStatus).toBe('SUCCEEDED');
  });

  it('fails when the settings ask for what the deployment cannot give (Service Connect)', () => {
    const answer = decideHookAnswer(
      situation({
        deployment: {
          ...alb,
          traffic: {
            kind: 'none',
            why: 'Service Connect publishes its metrics per service, not per revision',
          },
        },
      }),
    );

    expect(answer.hookStatus).toBe('FAILED');
    expect(answer.reason).toContain('errors: no per-revision errorRate metric (Service Connect');
  });

  it('fails on an NLB for HTTP checks, which an NLB does not publish per target group', () => {
    const answer = decideHookAnswer(
      situation({ deployment: { ...alb, traffic: { kind: 'nlb', green: { targetGroupArn: GREEN_TG } } } }),
    );

    expect(answer.reason).toContain('a Network Load Balancer publishes no HTTP errorRate per target group');
  });

  describe('a gate', () => {
    const gated = {
      ...settings,
      checks: [],
      gates: [{ stage: 'POST_TEST_TRAFFIC_SHIFT' as const, timeoutSeconds: 600 }],
    };
    const atGate = (changes: Partial<HookSituation> = {}) =>
      situation({ stage: 'POST_TEST_TRAFFIC_SHIFT', settings: gated, ...changes });

    it('waits for a person, remembering when it opened', () => {
      const answer = decideHookAnswer(atGate());

      expect(answer).toMatchObject({ hookStatus: 'IN_PROGRESS', callBackDelay: 60 });
      expect(answer.state?.gateOpenedAt).toBe(NOW.toISOString());
      // Where the gate stands, for the journal the ops API shows it from.
      expect(answer.gate).toEqual({
        status: 'waiting',
        openedAt: NOW.toISOString(),
        timesOutAt: minutes(10).toISOString(),
      });
    });

    it('goes on when resumed and rolls back when aborted', () => {
      const resumed = decideHookAnswer(atGate({ gateAnswer: { decision: 'resume', by: 'alice' } }));
      const aborted = decideHookAnswer(atGate({ gateAnswer: { decision: 'abort', by: 'bob' } }));

      expect(resumed).toMatchObject({
        hookStatus: 'SUCCEEDED',
        reason: 'POST_TEST_TRAFFIC_SHIFT: gate resumed by alice',
      });
      expect(aborted).toMatchObject({
        hookStatus: 'FAILED',
        reason: 'aborted at POST_TEST_TRAFFIC_SHIFT by bob',
      });
      expect([resumed.gate, aborted.gate]).toEqual([
        { status: 'resumed', by: 'alice' },
        { status: 'aborted', by: 'bob' },
      ]);
    });

    it('fails when nobody answers within its time box', () => {
      const opened = earlier(11, {
        stage: 'POST_TEST_TRAFFIC_SHIFT',
        gateOpenedAt: minutes(-11).toISOString(),
      });
      const answer = decideHookAnswer(atGate({ state: opened }));

      expect(answer).toMatchObject({
        hookStatus: 'FAILED',
        reason: 'POST_TEST_TRAFFIC_SHIFT: nobody answered the gate within 600 s',
      });
      expect(answer.gate).toEqual({ status: 'timed-out', openedAt: minutes(-11).toISOString() });
    });
  });

  it('starts a new window at a new linear step, keeping the failures counted', () => {
    const previous = earlier(5, {
      weight: 10,
      counts: { failures: 1, inconclusive: 2, errors: 0 },
      passes: 1,
    });
    const answer = decideHookAnswer(
      situation({ state: previous, deployment: { ...alb, greenProductionWeight: 20 } }),
    );

    expect(answer.state).toMatchObject({
      weight: 20,
      windowStart: NOW.toISOString(),
      counts: { failures: 1, inconclusive: 0, errors: 0 },
      passes: 0,
    });
  });

  it('looks only at what exists at each stage: no green metrics before green has traffic', () => {
    const queriesAt = (stage: HookSituation['stage'], weight: number) =>
      metricQueries(hookChecks(stage, settings, { ...alb, greenProductionWeight: weight })).length;

    expect(queriesAt('PRE_SCALE_UP', 0)).toBe(0);
    expect(queriesAt('POST_SCALE_UP', 0)).toBe(0);
    expect(queriesAt('PRE_PRODUCTION_TRAFFIC_SHIFT', 0)).toBe(0);
    expect(queriesAt('TEST_TRAFFIC_SHIFT', 0)).toBeGreaterThan(0);
    expect(queriesAt('PRODUCTION_TRAFFIC_SHIFT', 10)).toBeGreaterThan(0);
    expect(hookChecks('PRE_SCALE_UP', settings, alb).map((c) => c.name)).toEqual(['guard checkout-5xx']);
  });

  it("answers within ECS's contract whatever it observes", () => {
    const result = fc.constantFrom(
      'OK',
      'ALARM',
      'INSUFFICIENT_DATA',
      'missing',
      'unavailable',
    ) as fc.Arbitrary<Observations['alarms'][string]>;
    fc.assert(
      fc.property(
        fc.constantFrom(...HOOK_STAGES),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        fc.record({ requests: fc.nat(5000), errors: fc.nat(5000) }),
        result,
        fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
        (stage, weight, rollingBack, green, guard, startedMinutesAgo) => {
          const answer = decideHookAnswer(
            situation({
              stage,
              deployment: { ...alb, rollingBack, greenProductionWeight: weight },
              state:
                startedMinutesAgo === undefined ? undefined : earlier(startedMinutesAgo, { stage, weight }),
              observations: {
                metrics: errorMetrics(green),
                alarms: { 'checkout-5xx': guard },
                targetHealth: healthy,
              },
            }),
          );
          if (rollingBack) expect(answer.hookStatus).toBe('SUCCEEDED');
          if (guard === 'ALARM' && !rollingBack) expect(answer.hookStatus).toBe('FAILED');
          if (answer.hookStatus === 'IN_PROGRESS') {
            expect(answer.callBackDelay).toBeGreaterThanOrEqual(MIN_CALLBACK_SECONDS);
            expect(answer.callBackDelay).toBeLessThanOrEqual(MAX_CALLBACK_SECONDS);
            // What ECS carries to the next invocation stays small: hookDetails is not a table.
            expect(JSON.stringify(answer.state).length).toBeLessThan(2048);
          } else expect(answer.state).toBeUndefined();
          expect(answer.reason.length).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe('tests before traffic at a hook stage', () => {
  const smoke = {
    name: 'smoke',
    kind: 'http' as const,
    url: 'https://checkout-test.example.com/',
    requests: 5,
  };
  const tested: HookSettings = {
    ...settings,
    tests: [
      {
        stage: 'PRODUCTION_TRAFFIC_SHIFT',
        checks: [{ ...smoke, method: 'GET', timeoutSeconds: 5, expectStatus: [200], minSuccessRatio: 1 }],
      },
    ],
    limits: { ...settings.limits, failureLimit: 1 },
  };
  const ran = (result: 'pass' | 'fail' | 'error') => [{ check: 'smoke', result, reason: `smoke ${result}` }];
  const failingGreen = {
    ...quiet,
    metrics: errorMetrics({ requests: 200, errors: 100 }),
    targetHealth: healthy,
  };

  it('due at the stage the settings name, until they have passed there', () => {
    const state = earlier(3);
    expect(testsDue('PRODUCTION_TRAFFIC_SHIFT', tested, state).map((c) => c.name)).toEqual(['smoke']);
    expect(testsDue('POST_SCALE_UP', tested, state)).toEqual([]);
    expect(
      testsDue('PRODUCTION_TRAFFIC_SHIFT', tested, {
        ...state,
        tests: { counts: { failures: 0, inconclusive: 0, errors: 0 }, runs: 1, passed: true },
      }),
    ).toEqual([]);
  });

  it('a failed run below the failure limit asks again, and uses up none of the analysis failures allowed', () => {
    // Act: the tests fail, then pass; then the analysis fails once
    const first = decideHookAnswer(
      situation({
        settings: tested,
        state: earlier(3),
        testOutcomes: ran('fail'),
        observations: failingGreen,
      }),
    );
    const second = decideHookAnswer(
      situation({
        settings: tested,
        state: first.state,
        testOutcomes: ran('pass'),
        observations: failingGreen,
      }),
    );

    // Assess: the analysis's one allowed failure was still its own
    expect(first).toMatchObject({
      hookStatus: 'IN_PROGRESS',
      callBackDelay: 60,
      state: { counts: { failures: 0 }, tests: { counts: { failures: 1 }, runs: 1 } },
      tests: ran('fail'),
    });
    expect(first.outcomes).toEqual([]);
    expect(second).toMatchObject({
      hookStatus: 'IN_PROGRESS',
      reason: 'analysis fail: running it again',
      state: { counts: { failures: 1 }, tests: { passed: true, runs: 2 } },
      tests: ran('pass'),
    });
  });

  it('fails past the limit with the checks that failed as the reason; an error counts against errorLimit', () => {
    const twice = { ...earlier(3), tests: { counts: { failures: 1, inconclusive: 0, errors: 0 }, runs: 1 } };
    expect(
      decideHookAnswer(situation({ settings: tested, state: twice, testOutcomes: ran('fail') })),
    ).toMatchObject({
      hookStatus: 'FAILED',
      reason:
        'PRODUCTION_TRAFFIC_SHIFT: tests before traffic: 2 failed analysis run(s), limit 1: smoke: smoke fail',
    });
    const errored = decideHookAnswer(
      situation({ settings: tested, state: earlier(3), testOutcomes: ran('error') }),
    );
    expect(errored).toMatchObject({ hookStatus: 'IN_PROGRESS', state: { tests: { counts: { errors: 1 } } } });
  });

  it('tests due but not run are an error, never a pass', () => {
    const answer = decideHookAnswer(situation({ settings: tested, state: earlier(3) }));
    expect(answer).toMatchObject({ hookStatus: 'IN_PROGRESS', tests: [{ result: 'error' }] });
  });

  it("keeps only the last run's names and verdicts in hookDetails: at most 10, under 3 KB", () => {
    // The longest names a setting allows, ten checks: what ECS would carry at worst for the tests.
    const names = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'x'));
    const worst = {
      ...tested,
      tests: [
        {
          stage: 'PRODUCTION_TRAFFIC_SHIFT' as const,
          checks: names.map((name) => ({ ...tested.tests[0]!.checks[0]!, name })),
        },
      ],
    };
    const answer = decideHookAnswer(
      situation({
        settings: worst,
        state: earlier(3),
        testOutcomes: names.map((check) => ({ check, result: 'error' as const, reason: 'x'.repeat(300) })),
      }),
    );
    expect(answer.hookStatus).toBe('IN_PROGRESS');
    expect(JSON.stringify(answer.state?.tests).length).toBeLessThan(3 * 1024);
    expect(JSON.stringify(answer.state?.tests)).not.toContain('x'.repeat(300));
  });
});

describe('gate answers on the service tag', () => {
  it('round-trips and applies only to its deployment and stage', () => {
    const value = gateTagValue({
      deploymentId: 'Qm3vT8xZpL2rWc9NhY4Ke',
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      decision: 'resume',
      by: 'arn:aws:iam::210987654321:user/alice (ops)',
    });
    const tags = { [GATE_TAG_KEY]: value };

    expect(value).toMatch(/^[A-Za-z0-9 _.:/=+\-@]{1,256}$/);
    expect(readGateTag(value)).toMatchObject({ decision: 'resume', stage: 'POST_TEST_TRAFFIC_SHIFT' });
    expect(gateAnswerFor(tags, 'Qm3vT8xZpL2rWc9NhY4Ke', 'POST_TEST_TRAFFIC_SHIFT')?.decision).toBe('resume');
    expect(gateAnswerFor(tags, 'Qm3vT8xZpL2rWc9NhY4Ke', 'POST_SCALE_UP')).toBeUndefined();
    expect(gateAnswerFor(tags, 'another', 'POST_TEST_TRAFFIC_SHIFT')).toBeUndefined();
    expect(readGateTag('Qm3 NOT_A_STAGE resume x')).toBeUndefined();
  });
});

describe('CloudWatch dimensions from ARNs', () => {
  it('reads the load balancer from a listener rule or listener, and the target group from its ARN', () => {
    const rule =
      'arn:aws:elasticloadbalancing:eu-west-1:210987654321:listener-rule/app/shop-public/4c1e9a7b20d35f68/9b2f04d6e1a3c587/3e8a1f0b6c9d2e47';
    const listener =
      'arn:aws:elasticloadbalancing:eu-west-1:210987654321:listener/net/shop-tcp/77aa88bb99cc00dd/0123456789abcdef';

    expect(loadBalancerDimension(rule)).toBe('app/shop-public/4c1e9a7b20d35f68');
    expect(loadBalancerDimension(listener)).toBe('net/shop-tcp/77aa88bb99cc00dd');
    expect(
      loadBalancerDimension('arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/y'),
    ).toBeUndefined();
    expect(targetGroupDimension(GREEN_TG)).toBe('targetgroup/checkout-green/1827a3b4c5d6e7f8');
  });
});
