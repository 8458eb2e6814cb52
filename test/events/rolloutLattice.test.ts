// A rollout request on a VPC Lattice route, as the first step and the ops API parse it: the route's parts
// hold together (a rule of the listener named, target groups by ID or ARN, stable and canary two groups),
// or the request is refused with the field named, before anything is read or written.
import { RolloutSpecSchema } from '#events/rollout';

const LISTENER =
  'arn:aws:vpc-lattice:eu-west-1:111122223333:service/svc-0a1b2c3d4e5f60718/listener/listener-0a1b2c3d4e5f60718';
const REQUEST = {
  service: 'web',
  route: {
    router: 'lattice',
    listenerArn: LISTENER,
    ruleArn: `${LISTENER}/rule/rule-0a1b2c3d4e5f60718`,
    stable: 'tg-0a1b2c3d4e5f60711',
    canary: 'arn:aws:vpc-lattice:eu-west-1:111122223333:targetgroup/tg-0a1b2c3d4e5f60722',
  },
  schedule: { kind: 'canary', weight: 10, bakeSeconds: 300 },
  analysis: {
    checks: [
      {
        name: '5xx rate',
        kind: 'errorRate',
        source: {
          kind: 'lattice',
          stableTargetGroup: 'tg-0a1b2c3d4e5f60711',
          canaryTargetGroup: 'tg-0a1b2c3d4e5f60722',
        },
        max: 0.01,
      },
    ],
  },
};

const pathsOf = (request: unknown) =>
  RolloutSpecSchema.safeParse(request).error?.issues.map((issue) => issue.path.join('.'));

describe('a rollout request on a VPC Lattice route', () => {
  it('takes a rule of the listener, or none for its default action, and target groups by ID or ARN', () => {
    expect(pathsOf(REQUEST)).toBeUndefined();
    expect(pathsOf({ ...REQUEST, route: { ...REQUEST.route, ruleArn: undefined } })).toBeUndefined();
  });

  it.each([
    [
      'a rule of another listener',
      { ruleArn: `${LISTENER.replace('listener-0a1b', 'listener-9a1b')}/rule/rule-0a1b2c3d4e5f60718` },
      'route.ruleArn',
    ],
    [
      'a listener ARN that names no service',
      { listenerArn: LISTENER.replace('service/svc-0a1b2c3d4e5f60718/', ''), ruleArn: undefined },
      'route.listenerArn',
    ],
    [
      'an ALB target group',
      { stable: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/73e2d6bc24d8a067' },
      'route.stable',
    ],
    [
      'the canary named as the stable group’s ARN',
      { canary: `arn:aws:vpc-lattice:eu-west-1:111122223333:targetgroup/${REQUEST.route.stable}` },
      'route.canary',
    ],
  ])('refuses %s, naming the field', (_what, change, path) => {
    expect(pathsOf({ ...REQUEST, route: { ...REQUEST.route, ...change } })).toEqual([path]);
  });

  it('refuses a Lattice metrics source named by ARN: the TargetGroup dimension is the ID', () => {
    const [check] = REQUEST.analysis.checks;
    const source = { ...check!.source, canaryTargetGroup: REQUEST.route.canary };
    expect(pathsOf({ ...REQUEST, analysis: { checks: [{ ...check, source }] } })).toEqual([
      'analysis.checks.0.source.canaryTargetGroup',
    ]);
  });
});
