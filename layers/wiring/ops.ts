// The ops API's ports: built here and nowhere else, over the clients given. The ops API steers rollouts
// with the rollout reflex's own ports.

import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchLogsActionHistory, type JournalLogGroup } from '#adapters/aws/cloudWatchLogsActionHistory';
import { DynamoGateAnswers } from '#adapters/aws/dynamoGateAnswers';
import { DynamoIdempotencyStore } from '#adapters/aws/dynamoIdempotencyStore';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { EcsInstanceFleet } from '#adapters/aws/ecsInstanceFleet';
import { EcsNativeDeployments } from '#adapters/aws/ecsNativeDeployments';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { EcsServiceOperations } from '#adapters/aws/ecsServiceOperations';
import { EcsTaskFleet } from '#adapters/aws/ecsTaskFleet';
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { SqsQueueDepths } from '#adapters/aws/sqsQueueDepths';
import { TagReactionMemory } from '#adapters/aws/tagReactionMemory';
import { DEPLOYMENT_HOOK_REFLEX } from '#app/deploymentHook';
import { LIFECYCLE_REFLEX, LIFECYCLE_WORKFLOW } from '#app/instanceLifecycle';
import { OPS_REFLEX, type OpsPorts, type OpsSettings } from '#app/opsApi';
import { ALARM_REFLEX } from '#app/reactToAlarm';
import { REFLEX as TASK_RECYCLER_REFLEX } from '#app/recycleTaskGroup';
import { ROLLOUT_REFLEX, ROLLOUT_WORKFLOW } from '#app/rollout';
import type { RolloutPorts } from '#ports';
import { type AwsClientOptions, awsClientConfig, type ReflexClients, sharedClient } from '#runtime/clients';
import { loadOpsConfig, type OpsConfig } from '#runtime/config';
import { hookServices } from '#wiring/deploymentHook';
import type { Host } from '#wiring/host';
import { lambdaHost } from '#wiring/host';
import { awsRolloutDeps, declaredRoutesOf } from '#wiring/rollout';

export interface OpsDeps {
  ports: OpsPorts;
  /** Which routes the function serves is the function's own business (read or write). */
  settings: Omit<OpsSettings, 'serves'>;
}

export type OpsClients = Pick<
  ReflexClients,
  'ecs' | 'ecsSingleAttempt' | 'sfn' | 'cloudWatchLogs' | 'dynamoDb' | 'autoScaling' | 'sqs'
>;

export function opsPorts(
  clients: OpsClients,
  config: Pick<
    OpsConfig,
    'stateMachineArn' | 'lifecycleStateMachineArn' | 'actionLogGroups' | 'idempotencyTable' | 'maxAttempts'
  >,
  rollouts: RolloutPorts,
  host: Pick<Host, 'journal' | 'clock'>,
): OpsPorts {
  return {
    rollouts,
    journal: host.journal,
    workflows: new SfnWorkflows(clients.sfn, { [ROLLOUT_WORKFLOW]: config.stateMachineArn }),
    services: new EcsServiceControl(clients.ecs),
    nativeDeployments: new EcsNativeDeployments(clients.ecs),
    // UpdateService has no client token: its single-attempt client lets the adapter check before a retry.
    serviceOperations: new EcsServiceOperations(clients.ecs, {
      once: clients.ecsSingleAttempt,
      attempts: config.maxAttempts,
    }),
    instances: new EcsContainerInstances(clients.ecs),
    instanceFleet: new EcsInstanceFleet(clients.ecs),
    lifecycleRuns: new SfnWorkflowRuns(clients.sfn, {
      [LIFECYCLE_WORKFLOW]: config.lifecycleStateMachineArn,
    }),
    // GET /reflexes: the alarm reactor's memory where it keeps it, the recycler's marks on running tasks,
    // the dead-letter queues' depths.
    reactionMemory: new TagReactionMemory(clients),
    tasks: new EcsTaskFleet(clients.ecs),
    queueDepths: new SqsQueueDepths(clients.sqs),
    actions: new CloudWatchLogsActionHistory(
      clients.cloudWatchLogs,
      journalLogGroups(config.actionLogGroups),
      host.clock,
    ),
    idempotency: new DynamoIdempotencyStore(clients.dynamoDb, config.idempotencyTable, host.clock),
    gateAnswers: new DynamoGateAnswers(clients.dynamoDb, config.idempotencyTable, host.clock),
  };
}

export function opsClients(options: AwsClientOptions): OpsClients {
  return {
    ecs: sharedClient(ECSClient, options),
    // Not shared: the same class with one attempt, for the writes the adapter re-checks itself.
    ecsSingleAttempt: new ECSClient(awsClientConfig({ ...options, maxAttempts: 1 })),
    sfn: sharedClient(SFNClient, options),
    cloudWatchLogs: sharedClient(CloudWatchLogsClient, options),
    dynamoDb: sharedClient(DynamoDBClient, options),
    autoScaling: sharedClient(AutoScalingClient, options),
    sqs: sharedClient(SQSClient, options),
  };
}

let built: OpsDeps | undefined;

export function awsOpsDeps(): OpsDeps {
  if (built) return built;
  const config = loadOpsConfig();
  built = {
    settings: {
      routes: declaredRoutesOf(config.routes),
      clusters: config.clusters,
      hookServices: hookServices(config.hookServices),
      reflexes: config.reflexes,
    },
    ports: opsPorts(
      opsClients({ maxAttempts: config.maxAttempts }),
      config,
      awsRolloutDeps().ports,
      lambdaHost(),
    ),
  };
  return built;
}

/**
 * The reflexes each function journals, by its name in serverless.yml: a read of one reflex's actions reads
 * the log groups of these functions only (GET /deployments reads two reflexes per service, and the account
 * has 5 FilterLogEvents a second). A function listed with too few reflexes would hide its lines from those
 * reads (one not listed at all is read for every reflex); the list is held to what each handler's code
 * journals by test/infra/package.test.ts.
 */
export const JOURNALED_REFLEXES: Record<string, readonly string[]> = {
  taskRecycler: [TASK_RECYCLER_REFLEX],
  taskRecyclerRouter: [],
  taskRecyclerSweep: [],
  // A guard alarm aborts the rollouts it guards: their roll-back is journaled where it runs.
  alarmReactor: [ALARM_REFLEX, ROLLOUT_REFLEX],
  lifecycleHook: [],
  instanceLifecycleStep: [LIFECYCLE_REFLEX],
  rolloutStep: [ROLLOUT_REFLEX],
  rolloutSafetyNet: [ROLLOUT_REFLEX],
  opsRead: [],
  // Every write, and the roll-back of a rollout a person aborts.
  opsWrite: [OPS_REFLEX, ROLLOUT_REFLEX],
  deploymentHook: [DEPLOYMENT_HOOK_REFLEX],
};

/** Each function's log group with what it journals; a function not in the list is read for every reflex. */
export const journalLogGroups = (logGroups: Record<string, string>): JournalLogGroup[] =>
  Object.entries(logGroups).map(([functionName, logGroupName]) => {
    const reflexes = Object.hasOwn(JOURNALED_REFLEXES, functionName)
      ? JOURNALED_REFLEXES[functionName]
      : undefined;
    return reflexes ? { logGroupName, reflexes } : { logGroupName };
  });
