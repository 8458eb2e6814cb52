// The task recycler's ports: built here and nowhere else, over the clients given (Lambda's, once per cold
// start, from the environment; the twin's locally).
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { EcsTaskFleet } from '#adapters/aws/ecsTaskFleet';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { EmfCapacitySignal } from '#adapters/aws/emfCapacitySignal';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { SqsRechecks } from '#adapters/aws/sqsRechecks';
import { SqsTaskGroupQueue } from '#adapters/aws/sqsTaskGroupQueue';
import type { CapacitySignal, RecyclerPorts, TaskGroupQueue } from '#ports';
import { type AwsClientOptions, type ReflexClients, sharedClient } from '#runtime/clients';
import {
  loadRecyclerConfig,
  loadRouterConfig,
  type RecyclerConfig,
  type RecyclerSettings,
} from '#runtime/config';
import { type Host, lambdaHost } from '#wiring/host';

export interface RecyclerDeps {
  ports: RecyclerPorts;
  settings: RecyclerSettings;
  /** The SDK clients' attempts per call, from which a record's worst case follows (default 4). */
  maxAttempts?: number;
}

export type RecyclerClients = Pick<ReflexClients, 'ecs' | 'elbv2' | 'sns' | 'sqs'>;
export type RecyclerQueues = Pick<
  RecyclerConfig,
  'recheckQueueUrl' | 'deadLetterQueueUrl' | 'notifyTopicArn'
>;

/** Where the recycler runs, and where it counts capacity shortfalls (an EMF metric in Lambda). */
export type RecyclerHost = Host & { capacity: CapacitySignal };

export function recyclerPorts(
  clients: RecyclerClients,
  config: RecyclerQueues,
  host: RecyclerHost,
): RecyclerPorts {
  return {
    tasks: new EcsTaskFleet(clients.ecs),
    services: new EcsServiceControl(clients.ecs),
    targets: new ElbTargetRegistry(clients.elbv2),
    notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : host.logNotifier,
    capacity: host.capacity,
    rechecks: new SqsRechecks(clients.sqs, config.recheckQueueUrl, host.clock, host.newId, {
      region: process.env.AWS_REGION,
    }),
    clock: host.clock,
    journal: host.journal,
    deadLetters: new SqsDeadLetters(clients.sqs, config.deadLetterQueueUrl),
  };
}

/** The four the recycler and its sweep use, and no others: only these are in their bundles. */
export function recyclerClients(options: AwsClientOptions): RecyclerClients {
  return {
    ecs: sharedClient(ECSClient, options),
    elbv2: sharedClient(ElasticLoadBalancingV2Client, options),
    sns: sharedClient(SNSClient, options),
    sqs: sharedClient(SQSClient, options),
  };
}

/**
 * What the sweep runs on: it only enqueues rechecks on the recycler's queue, so its bundle carries the SQS
 * client alone. The recycler's deps are sweep deps too (the twin runs both on one set of ports).
 */
export interface SweepDeps {
  ports: Pick<RecyclerPorts, 'rechecks' | 'clock'>;
  settings: RecyclerSettings;
}

let built: RecyclerDeps | undefined;
let builtSweep: SweepDeps | undefined;

export function awsSweepDeps(): SweepDeps {
  if (builtSweep) return builtSweep;
  const config = loadRecyclerConfig();
  const sqs = sharedClient(SQSClient, { maxAttempts: config.maxAttempts });
  const { clock, newId } = lambdaHost();
  builtSweep = {
    settings: { clusters: config.clusters, dryRun: config.dryRun, policy: config.policy },
    ports: {
      rechecks: new SqsRechecks(sqs, config.recheckQueueUrl, clock, newId, {
        region: process.env.AWS_REGION,
      }),
      clock,
    },
  };
  return builtSweep;
}

export function awsRecyclerDeps(): RecyclerDeps {
  if (built) return built;
  const config = loadRecyclerConfig();
  built = {
    settings: { clusters: config.clusters, dryRun: config.dryRun, policy: config.policy },
    maxAttempts: config.maxAttempts,
    ports: recyclerPorts(recyclerClients({ maxAttempts: config.maxAttempts }), config, {
      ...lambdaHost(),
      capacity: new EmfCapacitySignal(),
    }),
  };
  return built;
}

/** The router: it only hands messages on, so its bundle carries the SQS client alone. */
export interface RouterDeps {
  queue: TaskGroupQueue;
}

export const routerDeps = (sqs: RecyclerClients['sqs'], taskGroupQueueUrl: string): RouterDeps => ({
  queue: new SqsTaskGroupQueue(sqs, taskGroupQueueUrl),
});

let builtRouter: RouterDeps | undefined;

export function awsRouterDeps(): RouterDeps {
  if (builtRouter) return builtRouter;
  const config = loadRouterConfig();
  builtRouter = routerDeps(
    sharedClient(SQSClient, { maxAttempts: config.maxAttempts }),
    config.taskGroupQueueUrl,
  );
  return builtRouter;
}
