// The rollout reflex's ports: built here and nowhere else, over the clients given. The rollout workflow's
// step, its safety net, and the alarm reactor (guard alarms) share them.

import { AppMeshClient } from '@aws-sdk/client-app-mesh';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import { albRouter } from '#adapters/aws/albRouter';
import { appMeshRouter } from '#adapters/aws/appMeshRouter';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import { DynamoRouteClaims } from '#adapters/aws/dynamoRouteClaims';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { HttpTrafficCheck } from '#adapters/aws/httpTrafficCheck';
import { latticeRouter } from '#adapters/aws/latticeRouter';
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { ROLLOUT_WORKFLOW } from '#app/rollout';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import type { LambdaCheck } from '#domain/trafficChecks';
import { DeclaredRouteSchema } from '#events/rollout';
import type { RolloutPorts, TrafficCheckRunner } from '#ports';
import { type AwsClientOptions, type ReflexClients, sharedClient } from '#runtime/clients';
import { loadRolloutConfig, type RolloutConfig } from '#runtime/config';
import { ConfigError } from '#runtime/errors';
import { type Host, lambdaHost } from '#wiring/host';

export interface RolloutDeps {
  ports: RolloutPorts;
  /** The rollout workflow this stack runs (the safety net hears every `*-rollout` machine's ends). */
  stateMachineArn?: string;
}

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

export type RolloutClients = Pick<
  ReflexClients,
  'appMesh' | 'elbv2' | 'vpcLattice' | 'dynamoDb' | 'cloudWatch' | 'ecs' | 'sfn' | 'sns'
>;

/**
 * Lambda checks run in the workflow's step alone (#wiring/rolloutStep): the safety net, the alarm reactor
 * and the ops API build the same ports without the Lambda client in their bundles.
 */
const NO_LAMBDA_CHECKS: TrafficCheckRunner<LambdaCheck> = {
  run: async () => ({
    kind: 'lambda',
    answer: { unavailable: 'lambda checks run in the rollout step only' },
  }),
};

/**
 * `declaredRoutes` is the list itself, not a copy: the twin's scenarios declare routes as they go, and the
 * ports read the same list.
 */
export function rolloutPorts(
  clients: RolloutClients,
  config: Pick<RolloutConfig, 'stateMachineArn' | 'routeClaimsTable' | 'notifyTopicArn'> &
    Partial<Pick<RolloutConfig, 'trafficCheckFunctions'>>,
  declaredRoutes: DeclaredRoute[],
  host: Host,
  lambdaChecks: TrafficCheckRunner<LambdaCheck> = NO_LAMBDA_CHECKS,
): RolloutPorts {
  return {
    routers: {
      appmesh: appMeshRouter(clients.appMesh),
      alb: albRouter(clients.elbv2),
      lattice: latticeRouter(clients.vpcLattice),
    },
    declaredRoutes,
    // None unless the stage names them: a lambda check is refused before the rollout starts.
    trafficCheckFunctions: config.trafficCheckFunctions ?? [],
    // On the ops API's table (infra/opsApi.yml): a conditional put, so one rollout per route for sure.
    claims: new DynamoRouteClaims(clients.dynamoDb, config.routeClaimsTable, host.clock),
    metrics: cloudWatchMetrics(clients.cloudWatch),
    alarms: new CloudWatchAlarmStates(clients.cloudWatch),
    targets: new ElbTargetRegistry(clients.elbv2),
    services: new EcsServiceControl(clients.ecs),
    runs: new SfnWorkflowRuns(clients.sfn, { [ROLLOUT_WORKFLOW]: config.stateMachineArn }),
    notifier: config.notifyTopicArn ? new SnsNotifier(clients.sns, config.notifyTopicArn) : host.logNotifier,
    clock: host.clock,
    journal: host.journal,
    trafficChecks: {
      // The twin answers http checks from its simulated cluster; Lambda has DNS and Node's http client.
      http: new HttpTrafficCheck(host.http),
      lambda: lambdaChecks,
    },
  };
}

export function rolloutClients(options: AwsClientOptions): RolloutClients {
  return {
    appMesh: sharedClient(AppMeshClient, options),
    elbv2: sharedClient(ElasticLoadBalancingV2Client, options),
    vpcLattice: sharedClient(VPCLatticeClient, options),
    dynamoDb: sharedClient(DynamoDBClient, options),
    cloudWatch: sharedClient(CloudWatchClient, options),
    ecs: sharedClient(ECSClient, options),
    sfn: sharedClient(SFNClient, options),
    sns: sharedClient(SNSClient, options),
  };
}

export function awsRolloutDeps(lambdaChecks?: TrafficCheckRunner<LambdaCheck>): RolloutDeps {
  if (built) return built;
  const config = loadRolloutConfig();
  built = {
    stateMachineArn: config.stateMachineArn,
    ports: rolloutPorts(
      rolloutClients({ maxAttempts: config.maxAttempts }),
      config,
      declaredRoutesOf(config.routes),
      lambdaHost(),
      lambdaChecks,
    ),
  };
  return built;
}
