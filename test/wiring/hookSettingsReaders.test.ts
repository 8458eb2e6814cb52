// The hook's per-service settings are read by three functions: the hook itself, the alarm reactor (its guard
// alarms) and the ops API (its gates and verdicts). Only the hook invokes lambda checks, so only the hook may
// refuse settings over the functions it is allowed; the readers must start with the same settings.

const SERVICES = JSON.stringify([
  {
    cluster: 'prod',
    service: 'web',
    settings: {
      guardAlarms: ['web-5xx'],
      tests: [{ stage: 'POST_SCALE_UP', checks: [{ name: 'suite', kind: 'lambda', function: 'web-smoke' }] }],
    },
  },
]);

const ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-dev';
const ENVIRONMENTS = {
  deploymentHook: { DEPLOYMENT_HOOK_SERVICES: SERVICES, TRAFFIC_CHECK_FUNCTIONS: 'web-smoke' },
  alarmReactor: {
    DEPLOYMENT_HOOK_SERVICES: SERVICES,
    DEPLOYMENT_HOOK_FUNCTION_NAME: 'ecs-reflex-dev-deploymentHook',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/alarm-dlq',
  },
  ops: {
    DEPLOYMENT_HOOK_SERVICES: SERVICES,
    CLUSTERS: 'prod',
    ROLLOUT_STATE_MACHINE_ARN: `${ARN}-rollout`,
    LIFECYCLE_STATE_MACHINE_ARN: `${ARN}-instance-lifecycle`,
    IDEMPOTENCY_TABLE: 'ecs-reflex-dev-ops',
    ROUTE_CLAIMS_TABLE: 'ecs-reflex-dev-ops',
  },
};

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = process.env;
  process.env = { ...saved, AWS_REGION: 'eu-west-1' };
});
afterEach(() => {
  process.env = saved;
});

/** Each wiring module keeps what it built: a fresh copy of it per case. */
function built<T>(load: () => T): T {
  let deps: T | undefined;
  jest.isolateModules(() => {
    deps = load();
  });
  return deps!;
}

describe('settings with a lambda check in deploymentHookServices', () => {
  it('start the hook, which is allowed the function, with the check', () => {
    Object.assign(process.env, ENVIRONMENTS.deploymentHook);
    const deps = built(() => require('#wiring/deploymentHook').awsDeploymentHookDeps());
    expect(deps.settings.services[0].settings.tests[0].checks[0].function).toBe('web-smoke');
  });

  it('start the alarm reactor, which reads their guard alarms and invokes nothing', () => {
    Object.assign(process.env, ENVIRONMENTS.alarmReactor);
    const deps = built(() => require('#wiring/alarmReactor').awsAlarmReactorDeps());
    expect(deps.deployments.settings.services[0].settings.guardAlarms).toEqual(['web-5xx']);
  });

  it('start the ops API, which shows their gates and verdicts and invokes nothing', () => {
    Object.assign(process.env, ENVIRONMENTS.ops);
    const deps = built(() => require('#wiring/ops').awsOpsDeps());
    expect(deps.settings.hookServices).toHaveLength(1);
  });

  it('stop the hook at init when it is not allowed the function', () => {
    Object.assign(process.env, ENVIRONMENTS.deploymentHook, { TRAFFIC_CHECK_FUNCTIONS: '' });
    expect(() => built(() => require('#wiring/deploymentHook').awsDeploymentHookDeps())).toThrow(
      /function web-smoke is not one the stack may invoke/,
    );
  });
});
