// The rollout reflex's ports over AWS, built once per cold start from the environment: the rollout
// workflow's step, its safety net, and the alarm reactor (guard alarms) share them.
import { AppMeshClient } from '@aws-sdk/client-app-mesh';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { albRouter } from '#adapters/aws/albRouter';
import { appMeshRouter } from '#adapters/aws/appMeshRouter';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import { DynamoRouteClaims } from '#adapters/aws/dynamoRouteClaims';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { ROLLOUT_WORKFLOW } from '#app/rollout';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import { DeclaredRouteSchema } from '#events/rollout';
import type { Notifier, RolloutPorts } from '#ports';
import { awsClientConfig, awsClients } from '#runtime/clients';
import { loadRolloutConfig } from '#runtime/config';
import { ConfigError } from '#runtime/errors';
import { powertoolsJournal } from '#runtime/journal';
import { logger } from '#runtime/powertools';

export interface RolloutDeps {
  ports: RolloutPorts;
  /** The rollout workflow this stack runs (the safety net hears every `*-rollout` machine's ends). */
  stateMachineArn?: string;
}

/** Without a topic, notifications still reach the logs, where an alarm on them can page someone. */
const logNotifier: Notifier = { notify: async (n) => logger.error(n.subject, { notification: n }) };

let built: RolloutDeps | undefined;

/** OPS_ROUTES, each entry checked at cold start: a bad one stops the function with the entry named. */
export function declaredRoutesOf(routes: readonly unknown[]): DeclaredRoute[] {
  return routes.map((entry, i) => {
    const parsed = DeclaredRouteSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const name = (entry as { name?: unknown } | null)?.name;
      throw new ConfigError(
        'OPS_ROUTES',
        `route ${i} (${String(name)}): ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    return parsed.data;
  });
}

export function awsRolloutDeps(): RolloutDeps {
  if (built) return built;
  const config = loadRolloutConfig();
  const clients = awsClients({ maxAttempts: config.maxAttempts });
  const sdk = awsClientConfig({ maxAttempts: config.maxAttempts });
  built = {
    stateMachineArn: config.stateMachineArn,
    ports: {
      // Made here, not in the shared set: only the rollout functions (and the ops API) talk to App Mesh.
      routers: {
        appmesh: appMeshRouter(new AppMeshClient(sdk)),
        alb: albRouter(clients.elbv2),
      },
      declaredRoutes: declaredRoutesOf(config.routes),
      // On the ops API's table (infra/opsApi.yml): a conditional put, so one rollout per route for sure.
      claims: new DynamoRouteClaims(new DynamoDBClient(sdk), config.routeClaimsTable),
      metrics: cloudWatchMetrics(clients.cloudWatch),
      alarms: new CloudWatchAlarmStates(clients.cloudWatch),
      targets: new ElbTargetRegistry(clients.elbv2),
      services: new EcsServiceControl(clients.ecs),
      runs: new SfnWorkflowRuns(clients.sfn, { [ROLLOUT_WORKFLOW]: config.stateMachineArn }),
      notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : logNotifier,
      clock: { now: () => new Date() },
      journal: powertoolsJournal(),
    },
  };
  return built;
}
