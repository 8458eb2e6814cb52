import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsNativeDeployments } from '#adapters/aws/ecsNativeDeployments';

const ecs = mockClient(ECSClient);
const FIXTURES = path.join(__dirname, '../fixtures/ecs/deploymentHook');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
const DEPLOYMENT =
  'arn:aws:ecs:eu-west-1:210987654321:service-deployment/shop/checkout/Qm3vT8xZpL2rWc9NhY4Ke';
const GREEN = 'arn:aws:ecs:eu-west-1:210987654321:service-revision/shop/checkout/7402918830016652210';
const BLUE = 'arn:aws:ecs:eu-west-1:210987654321:service-revision/shop/checkout/5518203947718820117';

beforeEach(() => ecs.reset());

describe('EcsNativeDeployments', () => {
  it('reads a deployment: its revisions with their requested weights and the hooks with their details', async () => {
    ecs.on(DescribeServiceDeploymentsCommand).resolves(fixture('describeServiceDeployments'));

    const deployment = await new EcsNativeDeployments(new ECSClient({})).deployment(DEPLOYMENT);

    expect(deployment).toMatchObject({
      serviceArn: 'arn:aws:ecs:eu-west-1:210987654321:service/shop/checkout',
      status: 'IN_PROGRESS',
      lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT',
      target: { arn: GREEN, productionWeight: 10, testWeight: 100 },
      sources: [{ arn: BLUE, productionWeight: 90, testWeight: 0 }],
      hooks: [{ lifecycleStages: expect.arrayContaining(['PRODUCTION_TRAFFIC_SHIFT']), hookDetails: {} }],
    });
    expect(ecs).toHaveReceivedCommandWith(DescribeServiceDeploymentsCommand, {
      serviceDeploymentArns: [DEPLOYMENT],
    });
  });

  it('answers undefined for a deployment ECS reports MISSING', async () => {
    ecs
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ failures: [{ arn: DEPLOYMENT, reason: 'MISSING' }] });

    expect(await new EcsNativeDeployments(new ECSClient({})).deployment(DEPLOYMENT)).toBeUndefined();
  });

  it("reads each revision's resolved target group, not the service's pair", async () => {
    ecs.on(DescribeServiceRevisionsCommand).resolves(fixture('describeServiceRevisions'));

    const revisions = await new EcsNativeDeployments(new ECSClient({})).revisions([GREEN, BLUE]);

    expect(
      revisions.map((r) => [r.arn, r.loadBalancers.map((lb) => lb.targetGroupArn.split('/')[1])]),
    ).toEqual([
      [GREEN, ['checkout-green']],
      [BLUE, ['checkout-blue']],
    ]);
  });

  it('asks nothing for no revisions and refuses more than one call can take', async () => {
    const adapter = new EcsNativeDeployments(new ECSClient({}));

    expect(await adapter.revisions([])).toEqual([]);
    await expect(adapter.revisions(Array.from({ length: 21 }, (_, i) => `${GREEN}${i}`))).rejects.toThrow(
      RangeError,
    );
    expect(ecs.calls()).toHaveLength(0);
  });

  it("lists a service's recent deployments newest first, described in one call", async () => {
    const older = DEPLOYMENT.replace(/[^/]+$/, 'Aa1111111111111111111');
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { serviceDeploymentArn: older, createdAt: new Date('2026-11-01T09:00:00Z') },
        { serviceDeploymentArn: DEPLOYMENT, createdAt: new Date('2026-11-02T09:00:00Z') },
      ],
    });
    const described = fixture('describeServiceDeployments');
    const [current] = described.serviceDeployments;
    ecs.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [{ ...current, serviceDeploymentArn: older, status: 'SUCCESSFUL' }, current],
    });

    const recent = await new EcsNativeDeployments(new ECSClient({})).recent('shop', 'checkout', 50);

    expect(recent.map((d) => [d.arn, d.status])).toEqual([
      [DEPLOYMENT, 'IN_PROGRESS'],
      [older, 'SUCCESSFUL'],
    ]);
    expect(ecs).toHaveReceivedCommandWith(ListServiceDeploymentsCommand, {
      cluster: 'shop',
      service: 'checkout',
      maxResults: 100,
    });
    expect(ecs).toHaveReceivedCommandWith(DescribeServiceDeploymentsCommand, {
      serviceDeploymentArns: [DEPLOYMENT, older],
    });
  });

  it('reads every page before it picks the newest: ECS documents no order for the listing', async () => {
    // 25 deployments, one a day, listed oldest first over two pages.
    const arnOf = (day: number) => DEPLOYMENT.replace(/[^/]+$/, `day${String(day).padStart(2, '0')}`);
    const brief = (day: number) => ({
      serviceDeploymentArn: arnOf(day),
      createdAt: new Date(Date.UTC(2026, 10, day, 9)),
    });
    const days = Array.from({ length: 25 }, (_, i) => i + 1);
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolves({ serviceDeployments: days.slice(0, 20).map(brief), nextToken: 'page-2' })
      .on(ListServiceDeploymentsCommand, { nextToken: 'page-2' })
      .resolves({ serviceDeployments: days.slice(20).map(brief) });
    const [current] = fixture('describeServiceDeployments').serviceDeployments;
    ecs.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => ({
      serviceDeployments: input.serviceDeploymentArns.map((arn) => ({
        ...current,
        serviceDeploymentArn: arn,
      })),
    }));
    const adapter = new EcsNativeDeployments(new ECSClient({}));

    const newest = await adapter.recent('shop', 'checkout', 1);
    const twenty = await adapter.recent('shop', 'checkout', 50);

    expect(newest.map((d) => d.arn)).toEqual([arnOf(25)]);
    expect(twenty.map((d) => d.arn)).toEqual(days.slice(5).reverse().map(arnOf));
    expect(ecs).toHaveReceivedCommandWith(ListServiceDeploymentsCommand, { nextToken: 'page-2' });
    // DescribeServiceDeployments takes at most 20 ARNs a call.
    expect(ecs).toHaveReceivedCommandWith(DescribeServiceDeploymentsCommand, {
      serviceDeploymentArns: [arnOf(25)],
    });
  });
});
