import {
  type Action,
  AddTagsCommand,
  DescribeListenersCommand,
  type DescribeListenersOutput,
  DescribeRulesCommand,
  type DescribeRulesOutput,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ListenerNotFoundException,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  RuleNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { albRouter } from '#adapters/aws/albRouter';
import type { RouteRef, Weights } from '#domain/rolloutRoutes';
import { InvalidInputError, RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const router = albRouter(elbv2 as unknown as ElasticLoadBalancingV2Client);

const ELB = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333';
const LISTENER_ARN = `${ELB}:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const RULE_ARN = `${ELB}:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const targetGroup = (name: string) => `${ELB}:targetgroup/${name}/73e2d6bc24d8a067`;
const STABLE = targetGroup('web-v1');
const CANARY = targetGroup('web-v2');
const OWNER_TAG = 'ecs-reflex:rollout';
const REQUEST_TAG = 'ecs-reflex:request';

const RULE_ROUTE: RouteRef = {
  router: 'alb',
  listenerArn: LISTENER_ARN,
  ruleArn: RULE_ARN,
  stable: STABLE,
  canary: CANARY,
};
const DEFAULT_ROUTE: RouteRef = { router: 'alb', listenerArn: LISTENER_ARN, stable: STABLE, canary: CANARY };

/** As Describe returns it: no ClientSecret, ever. */
const OIDC_ACTION: Action = {
  Type: 'authenticate-oidc',
  Order: 1,
  AuthenticateOidcConfig: {
    Issuer: 'https://idp.example.com',
    AuthorizationEndpoint: 'https://idp.example.com/authorize',
    TokenEndpoint: 'https://idp.example.com/token',
    UserInfoEndpoint: 'https://idp.example.com/userinfo',
    ClientId: 'shop-web',
    SessionCookieName: 'AWSELBAuthSessionCookie',
    Scope: 'openid email',
    SessionTimeout: 604800,
    AuthenticationRequestExtraParams: { prompt: 'login' },
    OnUnauthenticatedRequest: 'authenticate',
  },
};

const FORWARD_ACTION: Action = {
  Type: 'forward',
  Order: 2,
  ForwardConfig: {
    TargetGroups: [
      { TargetGroupArn: STABLE, Weight: 90 },
      { TargetGroupArn: CANARY, Weight: 10 },
    ],
    TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
  },
};

function describedRule(actions: Action[] = [OIDC_ACTION, FORWARD_ACTION]): DescribeRulesOutput {
  return {
    Rules: [
      {
        RuleArn: RULE_ARN,
        Priority: '10',
        Conditions: [
          { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] }, Values: ['/api/*'] },
          { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-shop-beta', Values: ['on'] } },
        ],
        Actions: structuredClone(actions),
        IsDefault: false,
      },
    ],
  };
}

/** A single-group forward as ELB describes it: both the short form and a one-group ForwardConfig. */
const SINGLE_FORWARD: Action = {
  Type: 'forward',
  Order: 1,
  TargetGroupArn: STABLE,
  ForwardConfig: {
    TargetGroups: [{ TargetGroupArn: STABLE, Weight: 1 }],
    TargetGroupStickinessConfig: { Enabled: false },
  },
};

function describedListener(defaultActions: Action[] = [SINGLE_FORWARD]): DescribeListenersOutput {
  return {
    Listeners: [
      {
        ListenerArn: LISTENER_ARN,
        LoadBalancerArn: `${ELB}:loadbalancer/app/shop/50dc6c495c0c9188`,
        Port: 443,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/3d6f0f2a' }],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        DefaultActions: structuredClone(defaultActions),
      },
    ],
  };
}

const ownerTags = (arn: string, owner?: string) => ({
  TagDescriptions: [
    {
      ResourceArn: arn,
      Tags: [{ Key: 'team', Value: 'shop' }, ...(owner ? [{ Key: OWNER_TAG, Value: owner }] : [])],
    },
  ],
});

const ruleWrites = () => elbv2.commandCalls(ModifyRuleCommand).map((call) => call.args[0].input);
const listenerWrites = () => elbv2.commandCalls(ModifyListenerCommand).map((call) => call.args[0].input);

beforeEach(() => elbv2.reset());

describe('read', () => {
  it('reads the weighted target groups of a rule and the rollout that owns it', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());
    elbv2.on(DescribeTagsCommand).resolves(ownerTags(RULE_ARN, 'web-rollout-42'));

    // Act
    const state = await router.read(RULE_ROUTE);

    // Assess
    expect(state).toEqual({
      weights: { stable: 90, canary: 10 },
      targets: [
        { id: STABLE, weight: 90 },
        { id: CANARY, weight: 10 },
      ],
      owner: 'web-rollout-42',
    });
    expect(elbv2.commandCalls(DescribeRulesCommand).map((call) => call.args[0].input)).toEqual([
      { RuleArns: [RULE_ARN] },
    ]);
    expect(elbv2.commandCalls(DescribeTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [RULE_ARN] },
    ]);
    expect(elbv2).not.toHaveReceivedCommand(DescribeListenersCommand);
  });

  it("reads a person's request next to the owner, from the same DescribeTags", async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());
    const tags = ownerTags(RULE_ARN, 'web-rollout-42');
    tags.TagDescriptions[0]!.Tags.push({ Key: REQUEST_TAG, Value: 'pause' });
    elbv2.on(DescribeTagsCommand).resolves(tags);

    // Act
    const state = await router.read(RULE_ROUTE);

    // Assess
    expect(state).toMatchObject({ owner: 'web-rollout-42', request: 'pause' });
    expect(elbv2).toHaveReceivedCommandTimes(DescribeTagsCommand, 1);
  });

  it('ignores a request tag whose value is no request', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());
    const tags = ownerTags(RULE_ARN, 'web-rollout-42');
    tags.TagDescriptions[0]!.Tags.push({ Key: REQUEST_TAG, Value: 'hurry-up' });
    elbv2.on(DescribeTagsCommand).resolves(tags);

    // Act
    const state = await router.read(RULE_ROUTE);

    // Assess
    expect(state).not.toHaveProperty('request');
    expect(state.owner).toBe('web-rollout-42');
  });

  it('reads the default action of a listener, and its owner from the listener', async () => {
    // Prepare
    elbv2.on(DescribeListenersCommand).resolves(describedListener());
    elbv2.on(DescribeTagsCommand).resolves(ownerTags(LISTENER_ARN));

    // Act
    const state = await router.read(DEFAULT_ROUTE);

    // Assess
    expect(state).toEqual({ weights: { stable: 100, canary: 0 }, targets: [{ id: STABLE, weight: 1 }] });
    expect(elbv2.commandCalls(DescribeListenersCommand).map((call) => call.args[0].input)).toEqual([
      { ListenerArns: [LISTENER_ARN] },
    ]);
    expect(elbv2.commandCalls(DescribeTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [LISTENER_ARN] },
    ]);
  });

  it('counts a forward with only a TargetGroupArn as that one group', async () => {
    // Prepare
    elbv2
      .on(DescribeListenersCommand)
      .resolves(describedListener([{ Type: 'forward', Order: 1, TargetGroupArn: STABLE }]));
    elbv2.on(DescribeTagsCommand).resolves(ownerTags(LISTENER_ARN));

    // Act
    const state = await router.read(DEFAULT_ROUTE);

    // Assess
    expect(state.targets).toEqual([{ id: STABLE, weight: 1 }]);
    expect(state.weights).toEqual({ stable: 100, canary: 0 });
  });

  it('throws RouteNotFoundError for a rule without a forward action', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(
      describedRule([
        {
          Type: 'fixed-response',
          Order: 1,
          FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'closed' },
        },
      ]),
    );

    // Act
    const reading = router.read(RULE_ROUTE);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(RouteNotFoundError);
    expect(elbv2).not.toHaveReceivedCommand(DescribeTagsCommand);
  });

  it('throws RouteNotFoundError for a rule ELB does not know', async () => {
    // Prepare
    elbv2
      .on(DescribeRulesCommand)
      .rejects(new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} }));

    // Act
    const error = await router.read(RULE_ROUTE).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RouteNotFoundError);
    expect(error).toHaveProperty('name', 'RouteNotFoundError');
  });

  it('throws RouteNotFoundError for a listener ELB does not know', async () => {
    // Prepare
    elbv2
      .on(DescribeListenersCommand)
      .rejects(new ListenerNotFoundException({ message: 'One or more listeners not found', $metadata: {} }));

    // Act
    const reading = router.read(DEFAULT_ROUTE);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(RouteNotFoundError);
  });

  it('refuses an App Mesh route', async () => {
    // Act
    const reading = router.read({
      router: 'appmesh',
      meshName: 'shop',
      virtualRouterName: 'web-router',
      routeName: 'web',
      stable: 'web-v1',
      canary: 'web-v2',
    });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(InvalidInputError);
    expect(elbv2).not.toHaveReceivedAnyCommand();
  });
});

describe('setWeights', () => {
  it('writes back the rule its read answered, without reading it again', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());
    elbv2.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: RULE_ARN, Tags: [] }] });
    elbv2.on(ModifyRuleCommand).resolves({});
    const state = await router.read(RULE_ROUTE);

    // Act
    await router.setWeights(RULE_ROUTE, { stable: 60, canary: 40 }, state);

    // Assess
    expect(elbv2.commandCalls(DescribeRulesCommand)).toHaveLength(1);
    const [write] = ruleWrites();
    const forward = write!.Actions!.find((action) => action.Type === 'forward');
    expect(forward!.ForwardConfig!.TargetGroups!.map((group) => group.Weight)).toEqual([60, 40]);
  });

  it('writes back every action of the rule with only the forward weights changed', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());
    elbv2.on(ModifyRuleCommand).resolves({});
    const forward = structuredClone(FORWARD_ACTION);
    forward.ForwardConfig!.TargetGroups = [
      { TargetGroupArn: STABLE, Weight: 60 },
      { TargetGroupArn: CANARY, Weight: 40 },
    ];

    // Act
    await router.setWeights(RULE_ROUTE, { stable: 60, canary: 40 });

    // Assess
    expect(ruleWrites()).toEqual([
      {
        RuleArn: RULE_ARN,
        Actions: [
          // ELB keeps the stored secret only when told to; Describe never hands it back.
          {
            ...OIDC_ACTION,
            AuthenticateOidcConfig: { ...OIDC_ACTION.AuthenticateOidcConfig, UseExistingClientSecret: true },
          },
          forward,
        ],
      },
    ]);
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it('writes the default action through the listener, without the short-form TargetGroupArn', async () => {
    // Prepare
    elbv2.on(DescribeListenersCommand).resolves(describedListener());
    elbv2.on(ModifyListenerCommand).resolves({});

    // Act
    await router.setWeights(DEFAULT_ROUTE, { stable: 95, canary: 5 });

    // Assess
    expect(listenerWrites()).toEqual([
      {
        ListenerArn: LISTENER_ARN,
        DefaultActions: [
          {
            Type: 'forward',
            Order: 1,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: STABLE, Weight: 95 },
                { TargetGroupArn: CANARY, Weight: 5 },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      },
    ]);
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('turns a forward with only a TargetGroupArn into a weighted ForwardConfig', async () => {
    // Prepare
    elbv2
      .on(DescribeListenersCommand)
      .resolves(describedListener([{ Type: 'forward', Order: 1, TargetGroupArn: STABLE }]));
    elbv2.on(ModifyListenerCommand).resolves({});

    // Act
    await router.setWeights(DEFAULT_ROUTE, { stable: 90, canary: 10 });

    // Assess
    expect(listenerWrites()[0]?.DefaultActions).toEqual([
      {
        Type: 'forward',
        Order: 1,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: STABLE, Weight: 90 },
            { TargetGroupArn: CANARY, Weight: 10 },
          ],
        },
      },
    ]);
  });

  it('writes the default rule named by its ARN through the listener (ModifyRule refuses it)', async () => {
    // Prepare
    const rules = describedRule([SINGLE_FORWARD]);
    rules.Rules![0]!.IsDefault = true;
    rules.Rules![0]!.Priority = 'default';
    rules.Rules![0]!.Conditions = [];
    elbv2.on(DescribeRulesCommand).resolves(rules);
    elbv2.on(ModifyListenerCommand).resolves({});

    // Act
    await router.setWeights(RULE_ROUTE, { stable: 50, canary: 50 });

    // Assess
    expect(listenerWrites().map((input) => input.ListenerArn)).toEqual([LISTENER_ARN]);
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('keeps the weights of other target groups', async () => {
    // Prepare
    const forward = structuredClone(FORWARD_ACTION);
    forward.ForwardConfig!.TargetGroups = [
      { TargetGroupArn: targetGroup('web-legacy'), Weight: 300 },
      { TargetGroupArn: STABLE, Weight: 600 },
      { TargetGroupArn: CANARY, Weight: 100 },
    ];
    elbv2.on(DescribeRulesCommand).resolves(describedRule([forward]));
    elbv2.on(ModifyRuleCommand).resolves({});

    // Act
    await router.setWeights(RULE_ROUTE, { stable: 80, canary: 20 });

    // Assess
    expect(ruleWrites()[0]?.Actions?.[0]?.ForwardConfig).toEqual({
      TargetGroups: [
        { TargetGroupArn: targetGroup('web-legacy'), Weight: 300 },
        { TargetGroupArn: STABLE, Weight: 80 },
        { TargetGroupArn: CANARY, Weight: 20 },
      ],
      TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
    });
  });

  it('writes nothing when the rule already holds the weights', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());

    // Act
    await router.setWeights(RULE_ROUTE, { stable: 90, canary: 10 });

    // Assess
    expect(elbv2).toHaveReceivedCommandTimes(DescribeRulesCommand, 1);
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it.each<[string, Weights]>([
    ['a canary of 101', { stable: -1, canary: 101 }],
    ['weights summing to 101', { stable: 0, canary: 101 }],
    ['a negative weight', { stable: 110, canary: -10 }],
    ['fractional weights', { stable: 99.9, canary: 0.1 }],
  ])('refuses %s before calling ELB at all', async (_case, weights) => {
    // Act
    const error = await router.setWeights(RULE_ROUTE, weights).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WeightOutOfRangeError);
    expect(error).toHaveProperty('name', 'WeightOutOfRangeError');
    expect(elbv2).not.toHaveReceivedAnyCommand();
  });

  it('refuses a sixth target group and writes nothing', async () => {
    // Prepare
    const forward = structuredClone(FORWARD_ACTION);
    forward.ForwardConfig!.TargetGroups = [
      { TargetGroupArn: STABLE, Weight: 500 },
      ...[1, 2, 3, 4].map((n) => ({ TargetGroupArn: targetGroup(`web-shard-${n}`), Weight: 100 })),
    ];
    elbv2.on(DescribeRulesCommand).resolves(describedRule([forward]));

    // Act
    const error = await router.setWeights(RULE_ROUTE, { stable: 90, canary: 10 }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WeightOutOfRangeError);
    expect((error as Error).message).toContain('not 6');
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it('throws RouteNotFoundError and writes nothing for a missing rule', async () => {
    // Prepare
    elbv2
      .on(DescribeRulesCommand)
      .rejects(new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} }));

    // Act
    const setting = router.setWeights(RULE_ROUTE, { stable: 50, canary: 50 });

    // Assess
    await expect(setting).rejects.toBeInstanceOf(RouteNotFoundError);
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });
});

describe('verifyWeights', () => {
  it('confirms the weights the rule holds, with a fresh read and no tag lookup', async () => {
    // Prepare
    elbv2.on(DescribeRulesCommand).resolves(describedRule());

    // Act
    const holds = await router.verifyWeights(RULE_ROUTE, { stable: 90, canary: 10 });
    const holdsOther = await router.verifyWeights(RULE_ROUTE, { stable: 0, canary: 100 });

    // Assess
    expect(holds).toBe(true);
    expect(holdsOther).toBe(false);
    expect(elbv2).toHaveReceivedCommandTimes(DescribeRulesCommand, 2);
    expect(elbv2).not.toHaveReceivedCommand(DescribeTagsCommand);
  });
});

describe('setOwner', () => {
  it('tags the rule with the owning rollout', async () => {
    // Prepare
    elbv2.on(AddTagsCommand).resolves({});

    // Act
    await router.setOwner(RULE_ROUTE, 'web-rollout-42');

    // Assess
    expect(elbv2.commandCalls(AddTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [RULE_ARN], Tags: [{ Key: OWNER_TAG, Value: 'web-rollout-42' }] },
    ]);
  });

  it('marks the listener for its default action', async () => {
    // Prepare
    elbv2.on(AddTagsCommand).resolves({});

    // Act
    await router.setOwner(DEFAULT_ROUTE, 'web-rollout-42');

    // Assess
    expect(elbv2.commandCalls(AddTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [LISTENER_ARN], Tags: [{ Key: OWNER_TAG, Value: 'web-rollout-42' }] },
    ]);
  });

  it('clears the mark by removing the tag, and any request with it, in one call', async () => {
    // Prepare
    elbv2.on(RemoveTagsCommand).resolves({});

    // Act
    await router.setOwner(RULE_ROUTE, null);

    // Assess
    expect(elbv2.commandCalls(RemoveTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [RULE_ARN], TagKeys: [OWNER_TAG, REQUEST_TAG] },
    ]);
    expect(elbv2).not.toHaveReceivedCommand(AddTagsCommand);
  });

  it('throws RouteNotFoundError for a rule ELB does not know', async () => {
    // Prepare
    elbv2
      .on(AddTagsCommand)
      .rejects(new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} }));

    // Act
    const marking = router.setOwner(RULE_ROUTE, 'web-rollout-42');

    // Assess
    await expect(marking).rejects.toBeInstanceOf(RouteNotFoundError);
  });
});

describe('setRequest', () => {
  it("tags the rule with a person's request", async () => {
    // Prepare
    elbv2.on(AddTagsCommand).resolves({});

    // Act
    await router.setRequest(RULE_ROUTE, 'promote');

    // Assess
    expect(elbv2.commandCalls(AddTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [RULE_ARN], Tags: [{ Key: REQUEST_TAG, Value: 'promote' }] },
    ]);
    expect(elbv2).not.toHaveReceivedCommand(DescribeRulesCommand);
  });

  it('marks the listener for its default action', async () => {
    // Prepare
    elbv2.on(AddTagsCommand).resolves({});

    // Act
    await router.setRequest(DEFAULT_ROUTE, 'pause');

    // Assess
    expect(elbv2.commandCalls(AddTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [LISTENER_ARN], Tags: [{ Key: REQUEST_TAG, Value: 'pause' }] },
    ]);
  });

  it('clears the request alone, leaving the owner', async () => {
    // Prepare
    elbv2.on(RemoveTagsCommand).resolves({});

    // Act
    await router.setRequest(RULE_ROUTE, null);

    // Assess
    expect(elbv2.commandCalls(RemoveTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceArns: [RULE_ARN], TagKeys: [REQUEST_TAG] },
    ]);
    expect(elbv2).not.toHaveReceivedCommand(AddTagsCommand);
  });

  it('throws RouteNotFoundError for a listener ELB does not know', async () => {
    // Prepare
    elbv2
      .on(AddTagsCommand)
      .rejects(new ListenerNotFoundException({ message: 'One or more listeners not found', $metadata: {} }));

    // Act
    const marking = router.setRequest(DEFAULT_ROUTE, 'pause');

    // Assess
    await expect(marking).rejects.toBeInstanceOf(RouteNotFoundError);
  });
});
