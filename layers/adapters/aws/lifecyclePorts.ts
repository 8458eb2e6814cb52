// The instance lifecycle reflex's ports over AWS, built once per cold start from the environment.
import { AutoScalingLifecycleActions } from '#adapters/aws/autoScalingLifecycleActions';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { ElbInstanceTargets } from '#adapters/aws/elbInstanceTargets';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { LIFECYCLE_WORKFLOW, type LifecyclePorts, type LifecycleSettings } from '#app/instanceLifecycle';
import type { Notifier } from '#ports';
import { awsClients } from '#runtime/clients';
import { loadLifecycleConfig } from '#runtime/config';
import { powertoolsJournal } from '#runtime/journal';
import { logger } from '#runtime/powertools';

export interface LifecycleDeps {
  ports: LifecyclePorts;
  settings: LifecycleSettings;
}

/** Without a topic, notifications still reach the logs, where an alarm on them can page someone. */
const logNotifier: Notifier = { notify: async (n) => logger.error(n.subject, { notification: n }) };

let built: LifecycleDeps | undefined;

export function awsLifecycleDeps(): LifecycleDeps {
  if (built) return built;
  const config = loadLifecycleConfig();
  const clients = awsClients({ maxAttempts: config.maxAttempts });
  built = {
    settings: { dryRun: config.dryRun, hooks: config.hooks },
    ports: {
      actions: new AutoScalingLifecycleActions({ autoScaling: clients.autoScaling, ecs: clients.ecs }),
      instances: new EcsContainerInstances(clients.ecs),
      targets: new ElbInstanceTargets(clients.elbv2),
      workflows: new SfnWorkflows(clients.sfn, { [LIFECYCLE_WORKFLOW]: config.stateMachineArn }),
      notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : logNotifier,
      clock: { now: () => new Date() },
      journal: powertoolsJournal(),
      deadLetters: new SqsDeadLetters(clients.sqs, config.deadLetterQueueUrl),
    },
  };
  return built;
}
