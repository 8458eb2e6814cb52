// What every AWS contract suite shares: one run's unique prefix, the SDK clients, a cleanup stack and a
// patient read. Resources are cheap (clusters, task definitions, target groups, empty Auto Scaling groups,
// alarms, queues, a table, a log group), named and tagged under the prefix, and deleted in reverse order
// when the suite ends, whatever it asserted. Endpoints are left to the SDK, which honours AWS_ENDPOINT_URL
// and AWS_ENDPOINT_URL_<SERVICE> on its own, as the adapters' clients do in Lambda.
import { randomBytes } from 'node:crypto';
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type AwsClients, createAwsClients } from '#runtime/clients';

/** Set by `npm run test:aws` (test/contracts/aws/run.ts) once it has found credentials and a region. */
export const AWS_CONTRACTS_ENABLED = process.env.ECS_REFLEX_AWS_CONTRACTS === '1';

/** `describe` when the AWS run is on, `describe.skip` otherwise (plain `jest` never reaches AWS). */
export const describeOnAws: jest.Describe = AWS_CONTRACTS_ENABLED ? describe : describe.skip;

/** Every contract resource name starts with this, so a sweep can find leftovers of an interrupted run. */
export const CONTRACT_PREFIX = 'ecsr-ct';
export const CONTRACT_TAG = 'ecs-reflex:contract-run';

export class AwsContractContext {
  /** 16 characters: target group names allow 32 in all, and suites add a short suffix. */
  readonly prefix = `${CONTRACT_PREFIX}-${randomBytes(4).toString('hex')}`;
  readonly clients: AwsClients = createAwsClients({ maxAttempts: 6 });
  readonly ec2 = new EC2Client({ maxAttempts: 6, retryMode: 'adaptive' });
  private readonly cleanups: { what: string; run: () => Promise<unknown> }[] = [];

  name(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  /** Registers how to delete what was just created; cleanup runs these last-in, first-out. */
  defer(what: string, run: () => Promise<unknown>): void {
    this.cleanups.push({ what, run });
  }

  /**
   * Tries a delete until AWS takes it: some deletes wait on another one (a cluster on its services
   * becoming INACTIVE, a group on its hooks), for up to two minutes.
   */
  async retrying(run: () => Promise<unknown>, seconds = 120): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      try {
        await run();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    }
  }

  /** Deletes everything deferred; a failure is reported with the resource's name and does not stop the rest. */
  async cleanup(): Promise<void> {
    const leftovers: string[] = [];
    for (const { what, run } of this.cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        leftovers.push(`${what}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    this.cleanups.length = 0;
    if (leftovers.length > 0)
      throw new Error(
        `could not delete ${leftovers.length} contract resource(s) under ${this.prefix}; delete them by hand:\n${leftovers.join('\n')}`,
      );
  }

  /**
   * Reads until the answer satisfies `ok`: most AWS control planes are eventually consistent, so a read
   * right after a write may still show the old world for a few seconds.
   */
  async eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, seconds = 60): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const value = await read();
      if (ok(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  private network?: Promise<{ vpcId: string; subnetIds: string[] }>;

  /**
   * A VPC for target groups and groups: ECS_REFLEX_TEST_VPC_ID (and ECS_REFLEX_TEST_SUBNET_IDS) when set,
   * otherwise the region's default VPC. Nothing is created in it.
   */
  vpc(): Promise<{ vpcId: string; subnetIds: string[] }> {
    this.network ??= (async () => {
      const given = process.env.ECS_REFLEX_TEST_VPC_ID;
      const vpcs = await this.ec2.send(
        new DescribeVpcsCommand(
          given ? { VpcIds: [given] } : { Filters: [{ Name: 'is-default', Values: ['true'] }] },
        ),
      );
      const vpcId = vpcs.Vpcs?.[0]?.VpcId;
      if (!vpcId)
        throw new Error(
          'no default VPC in this region: set ECS_REFLEX_TEST_VPC_ID and ECS_REFLEX_TEST_SUBNET_IDS',
        );
      const listed = process.env.ECS_REFLEX_TEST_SUBNET_IDS?.split(',').filter(Boolean);
      if (listed?.length) return { vpcId, subnetIds: listed };
      const subnets = await this.ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
      );
      return { vpcId, subnetIds: (subnets.Subnets ?? []).flatMap((s) => (s.SubnetId ? [s.SubnetId] : [])) };
    })();
    return this.network;
  }

  /** The tags every created resource carries, in the shape each API wants. */
  tags(): { key: string; value: string }[] {
    return [{ key: CONTRACT_TAG, value: this.prefix }];
  }
}
