// The twin's VPC Lattice through a real SDK client: what UpdateRule and UpdateListener refuse (the API
// reference's limits, identifier patterns, error names), the listener's default rule, and the metrics
// Lattice publishes per target group for the traffic a route carries.
import {
  GetListenerCommand,
  GetRuleCommand,
  type RuleAction,
  UpdateListenerCommand,
  UpdateRuleCommand,
  VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { TwinSendLayer } from '#local/twin/aws/client';
import { vpcLatticeModel } from '#local/twin/aws/vpcLattice';
import { LATTICE_NAMESPACE } from '#local/twin/traffic';
import { aWorld } from '../../support/trafficWorld';

function latticeWorld() {
  const w = aWorld();
  const aws = new TwinSendLayer({ clock: w.clock, calls: w.world.apiCalls, faults: w.faults });
  const lattice = aws.client(VPCLatticeClient, vpcLatticeModel(w.traffic.lattice));
  const rule = w.traffic.addLatticeRoute({
    name: 'web',
    targetGroups: [
      { targetGroup: 'web-v1', weight: 100 },
      { targetGroup: 'web-v2', weight: 0 },
    ],
  });
  const listenerArn = rule.listenerArn!;
  const ids = {
    serviceIdentifier: listenerArn.slice(0, listenerArn.indexOf('/listener/')),
    listenerIdentifier: listenerArn,
  };
  const group = (name: string) => w.traffic.lattice.targetGroup(name);
  return { ...w, lattice, ids, ruleArn: rule.ruleArn!, group };
}

const forward = (...groups: { targetGroupIdentifier: string; weight?: number }[]): RuleAction => ({
  forward: { targetGroups: groups },
});

describe('the twin’s VPC Lattice', () => {
  it('refuses forwards outside the API reference’s limits with ValidationException, and changes nothing', async () => {
    // Prepare
    const w = latticeWorld();
    const [v1, v2] = [w.group('web-v1').id, w.group('web-v2').id];
    const eleven = Array.from({ length: 11 }, (_, i) => ({
      targetGroupIdentifier: w.group(`v${i}`).id,
      weight: 1,
    }));
    const refused: RuleAction[] = [
      forward(...eleven),
      forward(),
      forward({ targetGroupIdentifier: v1, weight: 1000 }, { targetGroupIdentifier: v2, weight: 0 }),
      forward({ targetGroupIdentifier: v1, weight: 1.5 }, { targetGroupIdentifier: v2, weight: 0 }),
      forward({ targetGroupIdentifier: v1 }, { targetGroupIdentifier: v2 }),
      forward({ targetGroupIdentifier: v1, weight: 1 }, { targetGroupIdentifier: v1, weight: 1 }),
      forward({ targetGroupIdentifier: 'web-v1', weight: 1 }),
      { fixedResponse: { statusCode: 200 } },
    ];

    // Act
    const answers = await Promise.all(
      refused.map((action) =>
        w.lattice
          .send(new UpdateRuleCommand({ ...w.ids, ruleIdentifier: w.ruleArn, action }))
          .catch((error: Error) => error.name),
      ),
    );
    const after = await w.lattice.send(new GetRuleCommand({ ...w.ids, ruleIdentifier: w.ruleArn }));

    // Assess
    expect(answers).toEqual(Array(refused.length).fill('ValidationException'));
    expect(after.action).toEqual(
      forward({ targetGroupIdentifier: v1, weight: 100 }, { targetGroupIdentifier: v2, weight: 0 }),
    );
    expect(w.traffic.writes).toEqual([]);
  });

  it('says ResourceNotFoundException (404) for a rule, listener or target group that does not exist', async () => {
    // Prepare
    const w = latticeWorld();
    const missingRule = `${w.ids.listenerIdentifier}/rule/rule-0123456789abcdef0`;
    const missingGroup = 'tg-0123456789abcdef0';

    // Act
    const errors = await Promise.all(
      [
        w.lattice.send(new GetRuleCommand({ ...w.ids, ruleIdentifier: missingRule })),
        w.lattice.send(
          new GetListenerCommand({ ...w.ids, listenerIdentifier: 'listener-0123456789abcdef0' }),
        ),
        w.lattice.send(
          new UpdateRuleCommand({
            ...w.ids,
            ruleIdentifier: w.ruleArn,
            action: forward({ targetGroupIdentifier: missingGroup }),
          }),
        ),
      ].map((call) => call.catch((error: Error & { $metadata: { httpStatusCode: number } }) => error)),
    );

    // Assess
    for (const error of errors)
      expect(error).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('changes a listener’s default action through UpdateListener, a lone group at weight 100', async () => {
    // Prepare
    const w = latticeWorld();
    const listener = await w.lattice.send(new GetListenerCommand(w.ids));
    const v1 = w.group('web-v1').id;

    // Act
    const updated = await w.lattice.send(
      new UpdateListenerCommand({ ...w.ids, defaultAction: forward({ targetGroupIdentifier: v1 }) }),
    );
    const after = await w.lattice.send(new GetListenerCommand(w.ids));

    // Assess
    expect(listener.defaultAction).toEqual({ fixedResponse: { statusCode: 404 } });
    // A single group without a weight takes all the traffic: Lattice reports it at 100.
    expect(updated.defaultAction).toEqual(forward({ targetGroupIdentifier: v1, weight: 100 }));
    expect(after).toMatchObject({
      defaultAction: updated.defaultAction,
      serviceId: updated.serviceId,
      port: 80,
    });
  });

  it('publishes AWS/VpcLattice metrics per target group for the requests each weight sends it', async () => {
    // Prepare
    const w = latticeWorld();
    const [v1, v2] = [w.group('web-v1').id, w.group('web-v2').id];
    w.traffic.setProfile('web-v2', { errorRate: 0.1, latencyMs: { p50: 80, p99: 200 } });
    await w.lattice.send(
      new UpdateRuleCommand({
        ...w.ids,
        ruleIdentifier: w.ruleArn,
        action: forward(
          { targetGroupIdentifier: v1, weight: 750 },
          { targetGroupIdentifier: v2, weight: 250 },
        ),
      }),
    );
    w.traffic.setRate('web', 40);
    w.traffic.start();

    // Act
    await w.runFor(5 * 60);
    const sum = (metric: string, group: string) =>
      w.traffic
        .datapoints(LATTICE_NAMESPACE, metric, { TargetGroup: group })
        .reduce((total, point) => total + point.value, 0);

    // Assess: 40 requests/s split 3:1 over whole minutes, a tenth of the canary's answering 5xx.
    const minutes = w.traffic.datapoints(LATTICE_NAMESPACE, 'TotalRequestCount', { TargetGroup: v1 }).length;
    expect(minutes).toBeGreaterThanOrEqual(4);
    expect(sum('TotalRequestCount', v1)).toBe(minutes * 60 * 30);
    expect(sum('TotalRequestCount', v2)).toBe(minutes * 60 * 10);
    expect(sum('HTTPCode_5XX_Count', v2)).toBe(minutes * 60);
    expect(w.traffic.versionMetrics('web', 'web-v2')).toMatchObject({
      namespace: 'AWS/VpcLattice',
      dimensions: { TargetGroup: v2 },
      latency: 'RequestTime',
      latencyUnit: 'Milliseconds',
    });
  });
});
