// The TrafficRouter contract on the twin's two routers (see trafficRouter.contract.ts;
// trafficRouter.awstest.ts runs the same on App Mesh and on an ALB).
import { contractTwin, twinEventually } from './harness';
import { trafficRouterContract } from './trafficRouter.contract';

const VERSIONS = ['web-v1', 'web-v2', 'web-v0'] as const;

describe('TrafficRouter on the twin', () => {
  describe('App Mesh route', () => {
    trafficRouterContract(() => {
      const twin = contractTwin();
      return {
        router: twin.rolloutPorts.routers.appmesh,
        eventually: twinEventually(twin),
        given: async () => {
          const [stable, canary, bystander] = VERSIONS;
          twin.traffic.addMeshRoute({
            meshName: 'contract',
            virtualRouterName: 'web',
            routeName: 'web',
            protocol: 'http',
            match: { prefix: '/' },
            targets: [
              { virtualNode: stable, weight: 100 },
              { virtualNode: canary, weight: 0 },
              { virtualNode: bystander, weight: 0 },
            ],
          });
          const route = {
            router: 'appmesh',
            meshName: 'contract',
            virtualRouterName: 'web',
            routeName: 'web',
            stable,
            canary,
          } as const;
          return { route, bystander, missing: { ...route, routeName: 'web-missing' } };
        },
      };
    });
  });

  describe('ALB listener rule', () => {
    trafficRouterContract(() => {
      const twin = contractTwin();
      return {
        router: twin.rolloutPorts.routers.alb,
        eventually: twinEventually(twin),
        given: async () => {
          const [stable, canary, bystander] = VERSIONS.map(
            (name) =>
              twin.world.addTargetGroup({
                name,
                port: 80,
                targetType: 'ip',
                deregistrationDelaySeconds: 0,
              }).arn,
          ) as [string, string, string];
          const rule = twin.traffic.addListenerRule({
            name: 'web',
            priority: 10,
            conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/contract/*'] } }],
            targetGroups: [
              { targetGroup: stable, weight: 100 },
              { targetGroup: canary, weight: 0 },
              { targetGroup: bystander, weight: 0 },
            ],
          });
          const route = {
            router: 'alb',
            listenerArn: rule.listenerArn!,
            ruleArn: rule.ruleArn!,
            stable,
            canary,
          } as const;
          return {
            route,
            bystander,
            // A well-formed rule ARN of this listener that was never made.
            missing: { ...route, ruleArn: rule.ruleArn!.replace(/[^/]+$/, '0123456789abcdef') },
          };
        },
      };
    });
  });
});
