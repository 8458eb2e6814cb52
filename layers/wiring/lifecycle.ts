// The instance lifecycle reflex's ports: built here and nowhere else, over the clients given.
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AutoScalingLifecycleActions } from '#adapters/aws/autoScalingLifecycleActions';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { ElbInstanceTargets } from '#adapters/aws/elbInstanceTargets';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import {
  LIFECYCLE_WORKFLOW,
  type LifecyclePorts,
  type LifecycleSettings,
  type LifecycleStepPorts,
} from '#app/instanceLifecycle';
import { type ReflexClients, sharedClient } from '#runtime/clients';
import { type LifecycleConfig, loadLifecycleConfig } from '#runtime/config';
import { type Host, lambdaHost } from '#wiring/host';

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

/**
 * What the intake runs on: it starts workflows and parks what it cannot read, so its bundle carries the
 * Step Functions and SQS clients alone. The lifecycle deps are intake deps too (the twin runs both on one
 * set of ports).
 */
export interface LifecycleIntakeDeps {
  ports: Pick<LifecyclePorts, 'workflows' | 'deadLetters' | 'clock' | 'journal'>;
  settings: LifecycleSettings;
}

/** What the workflow's step runs on: no Step Functions or SQS client in its bundle. */
export interface LifecycleStepDeps {
  ports: LifecycleStepPorts;
  settings: LifecycleSettings;
}

let builtStep: LifecycleStepDeps | undefined;

export function awsLifecycleStepDeps(): LifecycleStepDeps {
  if (builtStep) return builtStep;
  const config = loadLifecycleConfig();
  const options = { maxAttempts: config.maxAttempts };
  const host = lambdaHost();
  const ecs = sharedClient(ECSClient, options);
  builtStep = {
    settings: { dryRun: config.dryRun, hooks: config.hooks },
    ports: {
      actions: new AutoScalingLifecycleActions({
        autoScaling: sharedClient(AutoScalingClient, options),
        ecs,
      }),
      instances: new EcsContainerInstances(ecs),
      targets: new ElbInstanceTargets(sharedClient(ElasticLoadBalancingV2Client, options)),
      notifier: config.notifyTopicArn
        ? new SnsNotifier(sharedClient(SNSClient, options), config.notifyTopicArn)
        : host.logNotifier,
      clock: host.clock,
      journal: host.journal,
    },
  };
  return builtStep;
}

let builtIntake: LifecycleIntakeDeps | undefined;

export function awsLifecycleIntakeDeps(): LifecycleIntakeDeps {
  if (builtIntake) return builtIntake;
  const config = loadLifecycleConfig();
  const options = { maxAttempts: config.maxAttempts };
  const host = lambdaHost();
  builtIntake = {
    settings: { dryRun: config.dryRun, hooks: config.hooks },
    ports: {
      workflows: new SfnWorkflows(sharedClient(SFNClient, options), {
        [LIFECYCLE_WORKFLOW]: config.stateMachineArn,
      }),
      deadLetters: new SqsDeadLetters(sharedClient(SQSClient, options), config.deadLetterQueueUrl),
      clock: host.clock,
      journal: host.journal,
    },
  };
  return builtIntake;
}
