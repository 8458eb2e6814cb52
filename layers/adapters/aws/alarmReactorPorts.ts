// The alarm reactor's ports over AWS, built once per cold start from the environment.

import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { awsRolloutDeps, type RolloutDeps } from '#adapters/aws/rolloutPorts';
import { AwsScalingControls } from '#adapters/aws/scalingControls';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { TagReactionMemory } from '#adapters/aws/tagReactionMemory';
import type { AlarmReactorSettings } from '#app/reactToAlarm';
import type { AlarmReactorPorts } from '#ports';
import { awsClients } from '#runtime/clients';
import { loadAlarmReactorConfig } from '#runtime/config';
import { powertoolsJournal } from '#runtime/journal';

export interface AlarmReactorDeps {
  ports: AlarmReactorPorts;
  settings: AlarmReactorSettings;
  /** Where rollouts run (ROLLOUT_STATE_MACHINE_ARN set): their guard alarms abort them. */
  rollouts?: RolloutDeps;
}

let built: AlarmReactorDeps | undefined;

export function awsAlarmReactorDeps(): AlarmReactorDeps {
  if (built) return built;
  const config = loadAlarmReactorConfig();
  const clients = awsClients({ maxAttempts: config.maxAttempts });
  built = {
    settings: { dryRun: config.dryRun, reactions: config.reactions },
    ports: {
      alarms: new CloudWatchAlarmStates(clients.cloudWatch),
      scaling: new AwsScalingControls(clients),
      memory: new TagReactionMemory(clients),
      clock: { now: () => new Date() },
      journal: powertoolsJournal(),
      deadLetters: new SqsDeadLetters(clients.sqs, config.deadLetterQueueUrl),
    },
    ...(process.env.ROLLOUT_STATE_MACHINE_ARN ? { rollouts: awsRolloutDeps() } : {}),
  };
  return built;
}
