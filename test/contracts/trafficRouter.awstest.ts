// The TrafficRouter contract on AWS, once per router: an App Mesh route between virtual nodes, and an ALB
// listener rule forwarding to weighted target groups. Each route splits 100/0/0 between stable, canary and
// a bystander version; everything is named under the run's prefix and deleted afterwards.
import {
  AppMeshClient,
  CreateMeshCommand,
  CreateRouteCommand,
  CreateVirtualNodeCommand,
  CreateVirtualRouterCommand,
  DeleteMeshCommand,
  DeleteRouteCommand,
  DeleteVirtualNodeCommand,
  DeleteVirtualRouterCommand,
} from '@aws-sdk/client-app-mesh';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  waitUntilLoadBalancerAvailable,
  waitUntilLoadBalancersDeleted,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { albRouter } from '#adapters/aws/albRouter';
import { APP_MESH_END_OF_SUPPORT, appMeshRouter } from '#adapters/aws/appMeshRouter';
import { AwsContractContext, describeOnAws } from './aws/context';
import { type RouterWorld, trafficRouterContract } from './trafficRouter.contract';

/** The virtual nodes or target groups of the three versions: stable, canary, bystander. */
const VERSIONS = ['v1', 'v2', 'v0'] as const;
const PORT = 8080;

// App Mesh costs nothing: meshes, virtual nodes, routers and routes are configuration, billed only
// through the Envoy proxies that nobody runs here. AWS ended App Mesh on 2026-09-30 and has taken no new
// customers since 2024-09-24, so its suite runs only when asked for (ECS_REFLEX_TEST_APPMESH=1, on an
// account that still has App Mesh); otherwise jest lists it as skipped, with why in its name. Asked for
// and refused, it fails with the refusal: passing empty would say the router was checked.
const APPMESH_ASKED = process.env.ECS_REFLEX_TEST_APPMESH === '1';
const describeAppMesh = APPMESH_ASKED ? describeOnAws : describe.skip;

describeAppMesh(
  `TrafficRouter on AWS: App Mesh route${APPMESH_ASKED ? '' : ' (App Mesh ended 2026-09-30: ECS_REFLEX_TEST_APPMESH=1 runs it)'}`,
  () => {
    const aws = new AwsContractContext();
    const appMesh = new AppMeshClient({ maxAttempts: 6, retryMode: 'adaptive' });
    afterAll(() => aws.cleanup());

    trafficRouterContract(() => ({
      router: appMeshRouter(appMesh),
      eventually: (read, ok) => aws.eventually(read, ok),
      given: async () => {
        const meshName = aws.name('mesh');
        try {
          await appMesh.send(new CreateMeshCommand({ meshName, tags: aws.tags() }));
        } catch (error) {
          const refusal = appMeshRefusal(error);
          if (refusal) throw new Error(refusal);
          throw error;
        }
        aws.defer(`mesh ${meshName}`, () =>
          aws.retrying(() => appMesh.send(new DeleteMeshCommand({ meshName }))),
        );
        const nodes = VERSIONS.map((version) => `web-${version}`);
        for (const virtualNodeName of nodes) {
          // A listener needs service discovery; the hostname is only a name, nothing resolves it.
          await appMesh.send(
            new CreateVirtualNodeCommand({
              meshName,
              virtualNodeName,
              spec: {
                listeners: [{ portMapping: { port: PORT, protocol: 'http' } }],
                serviceDiscovery: { dns: { hostname: `${virtualNodeName}.${meshName}.local` } },
              },
              tags: aws.tags(),
            }),
          );
          aws.defer(`virtual node ${meshName}/${virtualNodeName}`, () =>
            aws.retrying(() => appMesh.send(new DeleteVirtualNodeCommand({ meshName, virtualNodeName }))),
          );
        }
        const virtualRouterName = 'web';
        await appMesh.send(
          new CreateVirtualRouterCommand({
            meshName,
            virtualRouterName,
            spec: { listeners: [{ portMapping: { port: PORT, protocol: 'http' } }] },
            tags: aws.tags(),
          }),
        );
        aws.defer(`virtual router ${meshName}/${virtualRouterName}`, () =>
          aws.retrying(() => appMesh.send(new DeleteVirtualRouterCommand({ meshName, virtualRouterName }))),
        );
        const routeName = 'web';
        const [stable, canary, bystander] = nodes as [string, string, string];
        await appMesh.send(
          new CreateRouteCommand({
            meshName,
            virtualRouterName,
            routeName,
            spec: {
              httpRoute: {
                match: { prefix: '/' },
                action: {
                  weightedTargets: [
                    { virtualNode: stable, weight: 100 },
                    { virtualNode: canary, weight: 0 },
                    { virtualNode: bystander, weight: 0 },
                  ],
                },
              },
            },
            tags: aws.tags(),
          }),
        );
        aws.defer(`route ${meshName}/${virtualRouterName}/${routeName}`, () =>
          appMesh.send(new DeleteRouteCommand({ meshName, virtualRouterName, routeName })),
        );
        const route = { router: 'appmesh', meshName, virtualRouterName, routeName, stable, canary } as const;
        return { route, bystander, missing: { ...route, routeName: 'web-missing' } };
      },
    }));
  },
);

/**
 * Why CreateMesh failed when that is App Mesh's end: refused (403), or, after the end of support, any
 * error answer or an endpoint that no longer answers. Anything else (a bad request of ours, an answer the
 * SDK cannot read) is a failure of the suite, and undefined here.
 */
function appMeshRefusal(error: unknown): string | undefined {
  const { name, message, $metadata, code } = error as Error & {
    $metadata?: { httpStatusCode?: number };
    code?: string;
  };
  const status = $metadata?.httpStatusCode;
  const refused = status === 403 || name === 'ForbiddenException' || name === 'AccessDeniedException';
  const unreachable = ['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code ?? '');
  const ended = Date.now() >= Date.parse(`${APP_MESH_END_OF_SUPPORT}T00:00:00Z`);
  if (!refused && !(ended && ((status ?? 0) >= 400 || unreachable))) return undefined;
  return (
    `App Mesh refused CreateMesh (${name}: ${message}). AWS App Mesh takes no new customers since ` +
    `2024-09-24 and reached end of support on ${APP_MESH_END_OF_SUPPORT}; the App Mesh router cannot be ` +
    'checked on this account, the ALB router can'
  );
}

// An ALB costs about 2.5 US cents an hour (a partial hour is billed as a whole one), and this suite keeps
// one for a few minutes: an internal load balancer in two subnets of the test VPC, with no target behind
// it. Target groups, the listener and its rule are free.
describeOnAws('TrafficRouter on AWS: ALB listener rule', () => {
  const aws = new AwsContractContext();
  const { elbv2 } = aws.clients;
  let world: RouterWorld | undefined;
  const elbTags = () => aws.tags().map(({ key, value }) => ({ Key: key, Value: value }));

  // Made here rather than in `given`: a load balancer takes minutes to become active, longer than a hook
  // may take by default.
  beforeAll(async () => {
    const { vpcId } = await aws.vpc();
    const targetGroups: string[] = [];
    for (const version of VERSIONS) {
      const created = await elbv2.send(
        new CreateTargetGroupCommand({
          Name: aws.name(version),
          Protocol: 'HTTP',
          Port: 80,
          VpcId: vpcId,
          TargetType: 'ip',
          Tags: elbTags(),
        }),
      );
      const arn = created.TargetGroups![0]!.TargetGroupArn!;
      targetGroups.push(arn);
      // ELB refuses to delete a group still in use until the load balancer is gone: retried.
      aws.defer(`target group ${arn}`, () =>
        aws.retrying(() => elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }))),
      );
    }
    const balancer = await elbv2.send(
      new CreateLoadBalancerCommand({
        Name: aws.name('alb'),
        Type: 'application',
        Scheme: 'internal',
        Subnets: await subnetsInTwoZones(aws),
        Tags: elbTags(),
      }),
    );
    const loadBalancerArn = balancer.LoadBalancers![0]!.LoadBalancerArn!;
    aws.defer(`load balancer ${loadBalancerArn}`, async () => {
      await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: loadBalancerArn }));
      await waitUntilLoadBalancersDeleted(
        { client: elbv2, maxWaitTime: 600 },
        { LoadBalancerArns: [loadBalancerArn] },
      );
    });
    await waitUntilLoadBalancerAvailable(
      { client: elbv2, maxWaitTime: 600 },
      { LoadBalancerArns: [loadBalancerArn] },
    );
    const listener = await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: loadBalancerArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } },
        ],
        Tags: elbTags(),
      }),
    );
    const listenerArn = listener.Listeners![0]!.ListenerArn!;
    aws.defer(`listener ${listenerArn}`, () =>
      elbv2.send(new DeleteListenerCommand({ ListenerArn: listenerArn })),
    );
    const [stable, canary, bystander] = targetGroups as [string, string, string];
    const rule = await elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 10,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/contract/*'] } }],
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: stable, Weight: 100 },
                { TargetGroupArn: canary, Weight: 0 },
                { TargetGroupArn: bystander, Weight: 0 },
              ],
            },
          },
        ],
        Tags: elbTags(),
      }),
    );
    const ruleArn = rule.Rules![0]!.RuleArn!;
    aws.defer(`listener rule ${ruleArn}`, () => elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn })));
    const route = { router: 'alb', listenerArn, ruleArn, stable, canary } as const;
    world = {
      route,
      bystander,
      // A well-formed rule ARN of this listener that was never made (rule ids are 16 hex digits).
      missing: { ...route, ruleArn: ruleArn.replace(/[^/]+$/, '0123456789abcdef') },
    };
  }, 900_000);
  afterAll(() => aws.cleanup(), 900_000);

  trafficRouterContract(() => ({
    router: albRouter(elbv2),
    eventually: (read, ok) => aws.eventually(read, ok),
    given: async () => {
      if (!world) throw new Error('the ALB route was not made: see the first failure above');
      return world;
    },
  }));
});

/** One subnet in each of two Availability Zones of the test VPC: an ALB takes nothing less. */
async function subnetsInTwoZones(aws: AwsContractContext): Promise<string[]> {
  const { subnetIds } = await aws.vpc();
  const { Subnets = [] } = await aws.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }));
  const byZone = new Map<string, string>();
  for (const subnet of Subnets)
    if (subnet.AvailabilityZone && subnet.SubnetId && !byZone.has(subnet.AvailabilityZone))
      byZone.set(subnet.AvailabilityZone, subnet.SubnetId);
  const chosen = [...byZone.values()].slice(0, 2);
  if (chosen.length < 2)
    throw new Error(
      `an ALB needs subnets in two Availability Zones; the test VPC has ${Subnets.length} subnet(s) in ` +
        `${byZone.size}: set ECS_REFLEX_TEST_VPC_ID and ECS_REFLEX_TEST_SUBNET_IDS`,
    );
  return chosen;
}
