// The task recycler's ports over AWS, built once per cold start from the environment.
import { randomUUID } from 'node:crypto';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { EcsTaskFleet } from '#adapters/aws/ecsTaskFleet';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { EmfCapacitySignal } from '#adapters/aws/emfCapacitySignal';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { SqsRechecks } from '#adapters/aws/sqsRechecks';
import type { Clock, Notifier, RecyclerPorts } from '#ports';
import { awsClients } from '#runtime/clients';
import { loadRecyclerConfig, type RecyclerSettings } from '#runtime/config';
import { powertoolsJournal } from '#runtime/journal';
import { logger } from '#runtime/powertools';

export interface RecyclerDeps {
  ports: RecyclerPorts;
  settings: RecyclerSettings;
  /** The SDK clients' attempts per call, from which a record's worst case follows (default 4). */
  maxAttempts?: number;
}

const systemClock: Clock = { now: () => new Date() };

/** Without a topic, notifications still reach the logs, where an alarm on them can page someone. */
const logNotifier: Notifier = {
  notify: async (notification) => logger.error(notification.subject, { notification }),
};

let built: RecyclerDeps | undefined;

export function awsRecyclerDeps(): RecyclerDeps {
  if (built) return built;
  const config = loadRecyclerConfig();
  const clients = awsClients({ maxAttempts: config.maxAttempts });
  built = {
    settings: { clusters: config.clusters, dryRun: config.dryRun, policy: config.policy },
    maxAttempts: config.maxAttempts,
    ports: {
      tasks: new EcsTaskFleet(clients.ecs),
      services: new EcsServiceControl(clients.ecs),
      targets: new ElbTargetRegistry(clients.elbv2),
      notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : logNotifier,
      capacity: new EmfCapacitySignal(),
      rechecks: new SqsRechecks(clients.sqs, config.recheckQueueUrl, systemClock, randomUUID, {
        region: process.env.AWS_REGION,
      }),
      clock: systemClock,
      journal: powertoolsJournal(),
      deadLetters: new SqsDeadLetters(clients.sqs, config.deadLetterQueueUrl),
    },
  };
  return built;
}
