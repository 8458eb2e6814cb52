// The deployment hook's ports: built here and nowhere else, over the clients given.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import { EcsNativeDeployments } from '#adapters/aws/ecsNativeDeployments';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import type { DeploymentHookSettings } from '#app/deploymentHook';
import { HookServicesSchema } from '#events/deploymentHook';
import type { DeploymentHookPorts } from '#ports';
import { type AwsClientOptions, type ReflexClients, sharedClient } from '#runtime/clients';
import { loadDeploymentHookConfig } from '#runtime/config';
import { ConfigError } from '#runtime/errors';
import { type Host, lambdaHost } from '#wiring/host';

export interface DeploymentHookDeps {
  ports: DeploymentHookPorts;
  settings: DeploymentHookSettings;
}

export type DeploymentHookClients = Pick<ReflexClients, 'cloudWatch' | 'ecs' | 'elbv2'>;

export function deploymentHookPorts(clients: DeploymentHookClients, host: Host): DeploymentHookPorts {
  return {
    deployments: new EcsNativeDeployments(clients.ecs),
    services: new EcsServiceControl(clients.ecs),
    metrics: cloudWatchMetrics(clients.cloudWatch),
    alarms: new CloudWatchAlarmStates(clients.cloudWatch),
    targets: new ElbTargetRegistry(clients.elbv2),
    clock: host.clock,
    journal: host.journal,
  };
}

/** The services the hook serves (DEPLOYMENT_HOOK_SERVICES), checked: a bad entry stops the function at init. */
export function hookServices(given: unknown[]): DeploymentHookSettings['services'] {
  const parsed = HookServicesSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ConfigError('DEPLOYMENT_HOOK_SERVICES', `${issue.message} at ${issue.path.join('.')}`);
}

function deploymentHookClients(options: AwsClientOptions): DeploymentHookClients {
  return {
    cloudWatch: sharedClient(CloudWatchClient, options),
    ecs: sharedClient(ECSClient, options),
    elbv2: sharedClient(ElasticLoadBalancingV2Client, options),
  };
}

let built: DeploymentHookDeps | undefined;

export function awsDeploymentHookDeps(): DeploymentHookDeps {
  if (built) return built;
  const config = loadDeploymentHookConfig();
  built = {
    settings: {
      services: hookServices(config.services),
      ...(process.env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    },
    ports: deploymentHookPorts(deploymentHookClients({ maxAttempts: config.maxAttempts }), lambdaHost()),
  };
  return built;
}
