// The task recycler's ports: built here and nowhere else, over the clients given (Lambda's, once per cold
// start, from the environment; the twin's locally).
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { EcsTaskFleet } from '#adapters/aws/ecsTaskFleet';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { EmfCapacitySignal } from '#adapters/aws/emfCapacitySignal';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { SqsRechecks } from '#adapters/aws/sqsRechecks';
import type { CapacitySignal, RecyclerPorts } from '#ports';
import { awsClients, type ReflexClients } from '#runtime/clients';
import { loadRecyclerConfig, type RecyclerConfig, type RecyclerSettings } from '#runtime/config';
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

let built: RecyclerDeps | undefined;

export function awsRecyclerDeps(): RecyclerDeps {
  if (built) return built;
  const config = loadRecyclerConfig();
  built = {
    settings: { clusters: config.clusters, dryRun: config.dryRun, policy: config.policy },
    maxAttempts: config.maxAttempts,
    ports: recyclerPorts(awsClients({ maxAttempts: config.maxAttempts }), config, {
      ...lambdaHost(),
      capacity: new EmfCapacitySignal(),
    }),
  };
  return built;
}
