// The ops API's ports over AWS, built once per cold start from the environment. The CloudWatch Logs and
// DynamoDB clients are made here rather than in the shared set: only the ops functions use them.
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CloudWatchLogsActionHistory } from '#adapters/aws/cloudWatchLogsActionHistory';
import { DynamoIdempotencyStore } from '#adapters/aws/dynamoIdempotencyStore';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { EcsInstanceFleet } from '#adapters/aws/ecsInstanceFleet';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { EcsServiceOperations } from '#adapters/aws/ecsServiceOperations';
import { awsRolloutDeps, declaredRoutesOf } from '#adapters/aws/rolloutPorts';
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { LIFECYCLE_WORKFLOW } from '#app/instanceLifecycle';
import type { OpsPorts, OpsSettings } from '#app/opsApi';
import { ROLLOUT_WORKFLOW } from '#app/rollout';
import { awsClientConfig, awsClients } from '#runtime/clients';
import { loadOpsConfig } from '#runtime/config';
import { powertoolsJournal } from '#runtime/journal';

export interface OpsDeps {
  ports: OpsPorts;
  /** Which routes the function serves is the function's own business (read or write). */
  settings: Omit<OpsSettings, 'serves'>;
}

let built: OpsDeps | undefined;

export function awsOpsDeps(): OpsDeps {
  if (built) return built;
  const config = loadOpsConfig();
  const routes = declaredRoutesOf(config.routes);
  const clients = awsClients({ maxAttempts: config.maxAttempts });
  const sdk = awsClientConfig({ maxAttempts: config.maxAttempts });
  built = {
    settings: { routes, clusters: config.clusters },
    ports: {
      rollouts: awsRolloutDeps().ports,
      journal: powertoolsJournal(),
      workflows: new SfnWorkflows(clients.sfn, { [ROLLOUT_WORKFLOW]: config.stateMachineArn }),
      services: new EcsServiceControl(clients.ecs),
      // UpdateService has no client token: its single-attempt client lets the adapter check before a retry.
      serviceOperations: new EcsServiceOperations(clients.ecs, {
        once: new ECSClient(awsClientConfig({ maxAttempts: 1 })),
        attempts: config.maxAttempts,
      }),
      instances: new EcsContainerInstances(clients.ecs),
      instanceFleet: new EcsInstanceFleet(clients.ecs),
      lifecycleRuns: new SfnWorkflowRuns(clients.sfn, {
        [LIFECYCLE_WORKFLOW]: config.lifecycleStateMachineArn,
      }),
      actions: new CloudWatchLogsActionHistory(new CloudWatchLogsClient(sdk), config.actionLogGroups),
      idempotency: new DynamoIdempotencyStore(new DynamoDBClient(sdk), config.idempotencyTable),
    },
  };
  return built;
}
