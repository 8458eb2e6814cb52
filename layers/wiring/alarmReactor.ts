// The alarm reactor's ports: built here and nowhere else, over the clients given.
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { AwsScalingControls } from '#adapters/aws/scalingControls';
import { AwsScalingTargetReader } from '#adapters/aws/scalingTargetReader';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { TagReactionMemory } from '#adapters/aws/tagReactionMemory';
import type { AlarmReactorSettings } from '#app/reactToAlarm';
import type { AlarmReactorPorts } from '#ports';
import { type AwsClientOptions, type ReflexClients, sharedClient } from '#runtime/clients';
import { type AlarmReactorConfig, loadAlarmReactorConfig } from '#runtime/config';
import { type Host, lambdaHost } from '#wiring/host';
import { awsRolloutDeps, type RolloutDeps } from '#wiring/rollout';

export interface AlarmReactorDeps {
  ports: AlarmReactorPorts;
  settings: AlarmReactorSettings;
  /** Where rollouts run (ROLLOUT_STATE_MACHINE_ARN set): their guard alarms abort them. */
  rollouts?: RolloutDeps;
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
  built = {
    settings: { dryRun: config.dryRun, reactions: config.reactions },
    ports: alarmReactorPorts(alarmReactorClients({ maxAttempts: config.maxAttempts }), config, lambdaHost()),
    ...(process.env.ROLLOUT_STATE_MACHINE_ARN ? { rollouts: awsRolloutDeps() } : {}),
  };
  return built;
}
