// The alarm reactor's ports: built here and nowhere else, over the clients given.
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { EcsDeploymentStops } from '#adapters/aws/ecsDeploymentStops';
import { EcsNativeDeployments } from '#adapters/aws/ecsNativeDeployments';
import { AwsScalingControls } from '#adapters/aws/scalingControls';
import { AwsScalingTargetReader } from '#adapters/aws/scalingTargetReader';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { TagReactionMemory } from '#adapters/aws/tagReactionMemory';
import type { AlarmReactorSettings } from '#app/reactToAlarm';
import type { GuardedDeploymentSettings } from '#app/stopGuardedDeployments';
import type { AlarmReactorPorts, GuardedDeploymentPorts } from '#ports';
import { type AwsClientOptions, type ReflexClients, sharedClient } from '#runtime/clients';
import { type AlarmReactorConfig, loadAlarmReactorConfig, loadDeploymentHookConfig } from '#runtime/config';
import { hookServices } from '#wiring/deploymentHook';
import { type Host, lambdaHost } from '#wiring/host';
import { awsRolloutDeps, type RolloutDeps } from '#wiring/rollout';

export interface AlarmReactorDeps {
  ports: AlarmReactorPorts;
  settings: AlarmReactorSettings;
  /** Where rollouts run (ROLLOUT_STATE_MACHINE_ARN set): their guard alarms abort them. */
  rollouts?: RolloutDeps;
  /** Where the deployment hook serves services (DEPLOYMENT_HOOK_SERVICES set): their guard alarms stop them. */
  deployments?: { ports: GuardedDeploymentPorts; settings: GuardedDeploymentSettings };
}

export type AlarmReactorClients = Pick<
  ReflexClients,
  'applicationAutoScaling' | 'autoScaling' | 'cloudWatch' | 'ecs' | 'sns' | 'sqs'
>;

export function alarmReactorPorts(
  clients: AlarmReactorClients,
  config: Pick<AlarmReactorConfig, 'deadLetterQueueUrl' | 'notifyTopicArn'>,
  host: Host,
): AlarmReactorPorts {
  const scaling = new AwsScalingControls(clients);
  const memory = new TagReactionMemory(clients);
  return {
    alarms: new CloudWatchAlarmStates(clients.cloudWatch),
    scaling,
    memory,
    targets: new AwsScalingTargetReader(scaling, memory),
    clock: host.clock,
    journal: host.journal,
    notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : host.logNotifier,
    deadLetters: new SqsDeadLetters(clients.sqs, config.deadLetterQueueUrl),
  };
}

/** The guard alarms' reach into native deployments: the reactor's alarms, journal and notifier, and ECS. */
export function guardedDeploymentPorts(
  clients: Pick<ReflexClients, 'ecs'>,
  reactor: AlarmReactorPorts,
): GuardedDeploymentPorts {
  return {
    alarms: reactor.alarms,
    deployments: new EcsNativeDeployments(clients.ecs),
    stops: new EcsDeploymentStops(clients.ecs),
    clock: reactor.clock,
    journal: reactor.journal,
    notifier: reactor.notifier,
  };
}

export function alarmReactorClients(options: AwsClientOptions): AlarmReactorClients {
  return {
    applicationAutoScaling: sharedClient(ApplicationAutoScalingClient, options),
    autoScaling: sharedClient(AutoScalingClient, options),
    cloudWatch: sharedClient(CloudWatchClient, options),
    ecs: sharedClient(ECSClient, options),
    sns: sharedClient(SNSClient, options),
    sqs: sharedClient(SQSClient, options),
  };
}

let built: AlarmReactorDeps | undefined;

export function awsAlarmReactorDeps(): AlarmReactorDeps {
  if (built) return built;
  const config = loadAlarmReactorConfig();
  const clients = alarmReactorClients({ maxAttempts: config.maxAttempts });
  const ports = alarmReactorPorts(clients, config, lambdaHost());
  // The same services, settings and checks as the hook's own (its config reader and schema).
  const services = hookServices(loadDeploymentHookConfig().services);
  const hookFunctionName = process.env.DEPLOYMENT_HOOK_FUNCTION_NAME;
  built = {
    settings: { dryRun: config.dryRun, reactions: config.reactions },
    ports,
    ...(process.env.ROLLOUT_STATE_MACHINE_ARN ? { rollouts: awsRolloutDeps() } : {}),
    ...(services.length > 0 && hookFunctionName
      ? {
          deployments: {
            ports: guardedDeploymentPorts(clients, ports),
            settings: { dryRun: config.dryRun, services, hookFunctionName },
          },
        }
      : {}),
  };
  return built;
}
