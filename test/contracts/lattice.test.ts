// The VPC Lattice router on the twin: the TrafficRouter contract on a listener rule, and the Lattice
// contract on a listener's default action (lattice.awstest.ts runs the same on AWS).
import type { Twin } from '#local/twin/twin';
import { contractTwin, twinEventually } from './harness';
import { latticeRouterContract } from './lattice.contract';
import { trafficRouterContract } from './trafficRouter.contract';

const VERSIONS = ['web-v1', 'web-v2', 'web-v0'] as const;

/** The route's target groups named by ARN: the twin, like Lattice, answers with their IDs. */
function targetGroupArns(twin: Twin): [string, string, string] {
  return VERSIONS.map((name) => twin.traffic.lattice.targetGroup(name).arn) as [string, string, string];
}

describe('VPC Lattice router on the twin', () => {
  describe('listener rule (TrafficRouter contract)', () => {
    trafficRouterContract(() => {
      const twin = contractTwin();
      return {
        router: twin.rolloutPorts.routers.lattice,
        eventually: twinEventually(twin),
        given: async () => {
          const [stable, canary, bystander] = targetGroupArns(twin);
          const rule = twin.traffic.addLatticeRoute({
            name: 'web',
            targetGroups: [
              { targetGroup: 'web-v1', weight: 100 },
              { targetGroup: 'web-v2', weight: 0 },
              { targetGroup: 'web-v0', weight: 0 },
            ],
          });
          const route = {
            router: 'lattice',
            listenerArn: rule.listenerArn!,
            ruleArn: rule.ruleArn!,
            stable,
            canary,
          } as const;
          return {
            route,
            // Lattice answers other groups by ID, as it holds them.
            bystander: twin.traffic.lattice.targetGroup(bystander).id,
            missing: { ...route, ruleArn: `${rule.listenerArn}/rule/rule-0123456789abcdef0` },
          };
        },
      };
    });
  });

  describe('listener default action', () => {
    latticeRouterContract(() => {
      const twin = contractTwin();
      return {
        router: twin.rolloutPorts.routers.lattice,
        eventually: twinEventually(twin),
        given: async () => {
          const [stable, canary] = targetGroupArns(twin);
          const listener = twin.traffic.addLatticeRoute({
            name: 'web-default',
            default: true,
            targetGroups: [
              { targetGroup: 'web-v1', weight: 100 },
              { targetGroup: 'web-v2', weight: 0 },
            ],
          });
          const defaultAction = {
            router: 'lattice',
            listenerArn: listener.listenerArn!,
            stable,
            canary,
          } as const;
          const { defaultRuleId } = twin.traffic.lattice.listener(
            listener.listenerArn!.replace(/\/listener\/.*$/, ''),
            listener.listenerArn,
          );
          return {
            defaultAction,
            defaultRule: { ...defaultAction, ruleArn: `${listener.listenerArn}/rule/${defaultRuleId}` },
            editByHand: async (_route, targets) => twin.traffic.manualEdit('web-default', targets),
          };
        },
      };
    });
  });
});
