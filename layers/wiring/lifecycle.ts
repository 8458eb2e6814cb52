// The instance lifecycle reflex's ports: built here and nowhere else, over the clients given.
import { AutoScalingLifecycleActions } from '#adapters/aws/autoScalingLifecycleActions';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { ElbInstanceTargets } from '#adapters/aws/elbInstanceTargets';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { LIFECYCLE_WORKFLOW, type LifecyclePorts, type LifecycleSettings } from '#app/instanceLifecycle';
import { awsClients, type ReflexClients } from '#runtime/clients';
import { type LifecycleConfig, loadLifecycleConfig } from '#runtime/config';
import { type Host, lambdaHost } from '#wiring/host';

export interface LifecycleDeps {
  ports: LifecyclePorts;
  settings: LifecycleSettings;
}

export type LifecycleClients = Pick<ReflexClients, 'autoScaling' | 'ecs' | 'elbv2' | 'sfn' | 'sns' | 'sqs'>;

export function lifecyclePorts(
  clients: LifecycleClients,
  config: Pick<LifecycleConfig, 'stateMachineArn' | 'notifyTopicArn' | 'deadLetterQueueUrl'>,
  host: Host,
): LifecyclePorts {
  return {
    actions: new AutoScalingLifecycleActions({ autoScaling: clients.autoScaling, ecs: clients.ecs }),
    instances: new EcsContainerInstances(clients.ecs),
    targets: new ElbInstanceTargets(clients.elbv2),
    workflows: new SfnWorkflows(clients.sfn, { [LIFECYCLE_WORKFLOW]: config.stateMachineArn }),
    notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : host.logNotifier,
    clock: host.clock,
    journal: host.journal,
    deadLetters: new SqsDeadLetters(clients.sqs, config.deadLetterQueueUrl),
  };
}

let built: LifecycleDeps | undefined;

export function awsLifecycleDeps(): LifecycleDeps {
  if (built) return built;
  const config = loadLifecycleConfig();
  built = {
    settings: { dryRun: config.dryRun, hooks: config.hooks },
    ports: lifecyclePorts(awsClients({ maxAttempts: config.maxAttempts }), config, lambdaHost()),
  };
  return built;
}
