// The twin's Elastic Load Balancing v2 through a real SDK client: what ModifyRule refuses, rules in pages,
// target health and registration; and the real adapters over it (the ALB router, ElbInstanceTargets).
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbInstanceTargets } from '#adapters/aws/elbInstanceTargets';
import { type RouteRef, routeKey } from '#domain/rolloutRoutes';
import { aWorld, withAlbRule } from '../../support/trafficWorld';

describe('the twin’s ELBv2', () => {
  it('refuses forwards with more than 5 target groups or weights outside 0..999, and changes nothing', async () => {
    // Prepare
    const w = aWorld(['tg1', 'tg2', 'tg3', 'tg4', 'tg5', 'tg6', 'web-blue', 'web-green']);
    const { info } = withAlbRule(w, [100, 0]);
    const RuleArn = info.ruleArn!;
    const before = await w.elbv2.send(new DescribeRulesCommand({ RuleArns: [RuleArn] }));
    const forwardTo = (groups: { name: string; weight: number }[]) => [
      {
        Type: 'forward' as const,
        ForwardConfig: {
          TargetGroups: groups.map((g) => ({
            TargetGroupArn: w.world.targetGroup(g.name).arn,
            Weight: g.weight,
          })),
        },
      },
    ];

    // Act & Assess
    expect(() =>
      w.traffic.addListenerRule({
        name: 'wide',
        targetGroups: ['tg1', 'tg2', 'tg3', 'tg4', 'tg5', 'tg6'].map((targetGroup) => ({
          targetGroup,
          weight: 1,
        })),
      }),
    ).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    for (const Actions of [
      forwardTo([
        { name: 'web-blue', weight: 1000 },
        { name: 'web-green', weight: 0 },
      ]),
      forwardTo([1, 2, 3, 4, 5, 6].map((n) => ({ name: `tg${n}`, weight: 1 }))),
    ])
      await expect(w.elbv2.send(new ModifyRuleCommand({ RuleArn, Actions }))).rejects.toMatchObject({
        name: 'ValidationError',
      });
    await expect(
      w.elbv2.send(
        new ModifyRuleCommand({
          RuleArn,
          Actions: [
            { Type: 'forward', TargetGroupArn: RuleArn.replace(/listener-rule.*/, 'targetgroup/x/1') },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    const after = await w.elbv2.send(new DescribeRulesCommand({ RuleArns: [RuleArn] }));
    expect(after.Rules).toEqual(before.Rules);
    expect(w.traffic.writes).toEqual([]);
  });

  it('lists a listener’s rules in pages, its default rule last', async () => {
    // Prepare
    const w = aWorld();
    const { info } = withAlbRule(w, [100, 0], 'one');
    withAlbRule(w, [100, 0], 'two');

    // Act
    const first = await w.elbv2.send(
      new DescribeRulesCommand({ ListenerArn: info.listenerArn, PageSize: 2 }),
    );
    const second = await w.elbv2.send(
      new DescribeRulesCommand({ ListenerArn: info.listenerArn, PageSize: 2, Marker: first.NextMarker }),
    );

    // Assess
    expect(first.Rules!.map((r) => r.Priority)).toEqual(['1', '2']);
    expect(second.Rules!.map((r) => [r.Priority, r.IsDefault])).toEqual([['default', true]]);
    expect(second.NextMarker).toBeUndefined();
    await expect(w.elbv2.send(new DescribeRulesCommand({}))).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });

  it('answers a named target that is not registered as unused, and a missing group as not found', async () => {
    // Prepare
    const w = aWorld();
    const tg = w.world.targetGroup('web-blue');

    // Act
    const output = await w.elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn, Targets: [{ Id: '10.0.1.9' }] }),
    );

    // Assess
    expect(output.TargetHealthDescriptions).toEqual([
      expect.objectContaining({
        Target: { Id: '10.0.1.9', Port: 8080 },
        TargetHealth: expect.objectContaining({ State: 'unused', Reason: 'Target.NotRegistered' }),
      }),
    ]);
    await expect(
      w.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${tg.arn}0` })),
    ).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
  });
});

/** A target group of EC2 instances (bridge or host tasks, the instance lifecycle's targets). */
const instanceTargetGroup = (w: ReturnType<typeof aWorld>) =>
  w.world.addTargetGroup({
    name: 'web-instances',
    port: 80,
    targetType: 'instance',
    deregistrationDelaySeconds: 30,
  });

describe('ElbInstanceTargets over the twin', () => {
  it('register, health and deregister of instance targets are idempotent', async () => {
    // Prepare
    const w = aWorld();
    const tg = instanceTargetGroup(w);
    const targets = new ElbInstanceTargets(w.elbv2);
    const { instanceId } = w.world.addInstance('prod', 2048, 4096);

    // Act
    const absent = await targets.targetsOf(instanceId, [tg.arn]);
    await targets.register(instanceId, [{ targetGroupArn: tg.arn, port: 8080 }]);
    await targets.register(instanceId, [{ targetGroupArn: tg.arn, port: 8080 }]);
    const initial = await targets.targetsOf(instanceId, [tg.arn]);
    await targets.deregister(instanceId, [{ targetGroupArn: tg.arn, port: 8080 }]);
    await targets.deregister(instanceId, [{ targetGroupArn: tg.arn, port: 8080 }]);
    const draining = await targets.targetsOf(instanceId, [tg.arn]);
    w.world.start();
    await w.runFor(40);
    const gone = await targets.targetsOf(instanceId, [tg.arn]);

    // Assess
    expect(absent).toEqual([{ targetGroupArn: tg.arn, port: 0, state: 'absent' }]);
    expect(initial).toEqual([{ targetGroupArn: tg.arn, port: 8080, state: 'initial' }]);
    expect(draining).toEqual([{ targetGroupArn: tg.arn, port: 8080, state: 'draining' }]);
    expect(gone).toEqual([{ targetGroupArn: tg.arn, port: 0, state: 'absent' }]);
    expect(w.world.apiCalls.filter((c) => c.write).map((c) => [c.api, c.target])).toEqual([
      ['RegisterTargets', `${tg.arn} ${instanceId}:8080`],
      ['RegisterTargets', `${tg.arn} ${instanceId}:8080`],
      ['DeregisterTargets', `${tg.arn} ${instanceId}:8080`],
      ['DeregisterTargets', `${tg.arn} ${instanceId}:8080`],
    ]);
  });

  it('refuses to register an instance that is not there, and registers none of the call’s targets', async () => {
    // Prepare: one instance that runs, one that has terminated
    const w = aWorld();
    const tg = instanceTargetGroup(w);
    const running = w.world.addInstance('prod', 2048, 4096).instanceId;
    const terminated = w.world.addInstance('prod', 2048, 4096).instanceId;
    w.world.removeInstance(terminated);

    // Act
    const refused = w.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tg.arn,
        Targets: [{ Id: running }, { Id: terminated }],
      }),
    );

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'InvalidTargetException' });
    const health = await w.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }));
    expect(health.TargetHealthDescriptions).toEqual([]);
  });
});

describe('the ALB router over the twin', () => {
  it('writes nothing when the weights already hold, and verifies with a read of its own', async () => {
    // Prepare
    const w = aWorld();
    const { ref } = withAlbRule(w, [90, 10]);

    // Act
    await w.routers.alb.setWeights(ref, { stable: 90, canary: 10 });
    const holds = await w.routers.alb.verifyWeights(ref, { stable: 90, canary: 10 });
    const other = await w.routers.alb.verifyWeights(ref, { stable: 50, canary: 50 });

    // Assess
    expect([holds, other]).toEqual([true, false]);
    expect(w.world.apiCalls.map((c) => c.api)).toEqual(['DescribeRules', 'DescribeRules', 'DescribeRules']);
    expect(w.traffic.writes).toEqual([]);
  });

  it('refuses weights outside the router’s limits before any write', async () => {
    // Prepare
    const w = aWorld(['tg1', 'tg2', 'tg3', 'tg4', 'web-blue', 'web-green']);
    const alb = w.traffic.addListenerRule({
      name: 'five',
      targetGroups: ['tg1', 'tg2', 'tg3', 'tg4', 'web-blue'].map((targetGroup) => ({
        targetGroup,
        weight: 1,
      })),
    });
    const albRef: RouteRef = {
      router: 'alb',
      listenerArn: alb.listenerArn!,
      ruleArn: alb.ruleArn!,
      stable: w.world.targetGroup('web-blue').arn,
      canary: w.world.targetGroup('web-green').arn,
    };

    // Act & Assess
    await expect(w.routers.alb.setWeights(albRef, { stable: 90, canary: 10 })).rejects.toMatchObject({
      name: 'WeightOutOfRangeError',
      message: expect.stringContaining('1..5 weighted targets'),
    });
    await expect(w.routers.alb.setWeights(albRef, { stable: 90, canary: 20 })).rejects.toMatchObject({
      name: 'WeightOutOfRangeError',
    });
    expect(w.writeCalls()).toEqual([]);
    expect(w.traffic.writes).toEqual([]);
  });

  it('says RouteNotFoundError for a rule or listener that does not exist', async () => {
    // Prepare
    const w = aWorld();
    const { ref: albRef, info } = withAlbRule(w, [100, 0], 'web-alb');
    const goneListener = info.listenerArn!.replace(/[^/]+$/, 'no-such-listener');

    // Act & Assess
    await expect(
      w.routers.alb.setWeights({ ...albRef, ruleArn: `${info.ruleArn}0` }, { stable: 50, canary: 50 }),
    ).rejects.toMatchObject({ name: 'RouteNotFoundError' });
    await expect(
      w.routers.alb.setOwner({ ...albRef, ruleArn: undefined, listenerArn: goneListener }, 'rollout-1'),
    ).rejects.toMatchObject({ name: 'RouteNotFoundError' });
    expect(w.traffic.writes).toEqual([]);
  });

  it('shifts a listener’s default action through ModifyListener and marks the listener', async () => {
    // Prepare
    const w = aWorld();
    const info = w.traffic.addListenerRule({
      name: 'default',
      default: true,
      targetGroups: [{ targetGroup: 'web-blue', weight: 1 }],
    });
    const ref: RouteRef = {
      router: 'alb',
      listenerArn: info.listenerArn!,
      stable: w.world.targetGroup('web-blue').arn,
      canary: w.world.targetGroup('web-green').arn,
    };

    // Act
    await w.routers.alb.setOwner(ref, 'rollout-7');
    await w.routers.alb.setWeights(ref, { stable: 95, canary: 5 });
    const state = await w.routers.alb.read(ref);

    // Assess
    expect(state).toMatchObject({ weights: { stable: 95, canary: 5 }, owner: 'rollout-7' });
    expect(w.traffic.weightsNow('default')).toEqual({ 'web-blue': 95, 'web-green': 5 });
    expect(w.writeCalls()).toEqual(['AddTags', 'ModifyListener']);
    expect(w.traffic.writes[0]).toMatchObject({ route: routeKey(ref), api: 'ModifyListener', by: 'reflex' });
  });

  it('changes the default action of a listener that carries no route, and records no route write', async () => {
    // Prepare: the route is the listener's rule; its default action is a fixed response
    const w = aWorld();
    const { info } = withAlbRule(w);
    const forward = [{ Type: 'forward' as const, TargetGroupArn: w.world.targetGroup('web-blue').arn }];

    // Act
    await w.elbv2.send(
      new ModifyListenerCommand({ ListenerArn: info.listenerArn!, DefaultActions: forward }),
    );
    const { Listeners } = await w.elbv2.send(
      new DescribeListenersCommand({ ListenerArns: [info.listenerArn!] }),
    );

    // Assess
    expect(Listeners?.[0]?.DefaultActions).toMatchObject(forward);
    expect(w.traffic.writes).toEqual([]);
  });
});
