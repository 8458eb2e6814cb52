// The deployment hook's ports: built here and nowhere else, over the clients given.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import { EcsNativeDeployments } from '#adapters/aws/ecsNativeDeployments';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { HttpTrafficCheck } from '#adapters/aws/httpTrafficCheck';
import { type DeploymentHookSettings, hookFunctionProblems } from '#app/deploymentHook';
import type { LambdaCheck } from '#domain/trafficChecks';
import { HookServicesSchema } from '#events/deploymentHook';
import type { DeploymentHookPorts, TrafficCheckRunner } from '#ports';
import { type AwsClientOptions, type ReflexClients, sharedClient } from '#runtime/clients';
import { loadDeploymentHookConfig } from '#runtime/config';
import { ConfigError } from '#runtime/errors';
import { type Host, lambdaHost } from '#wiring/host';
import { lambdaCheckClient, lambdaChecksOver } from '#wiring/lambdaChecks';

export interface DeploymentHookDeps {
  ports: DeploymentHookPorts;
  settings: DeploymentHookSettings;
}

export type DeploymentHookClients = Pick<ReflexClients, 'cloudWatch' | 'ecs' | 'elbv2'>;

/** Without a Lambda runner or allowed functions, a lambda check is refused (and could not run anyway). */
const NO_LAMBDA_CHECKS: TrafficCheckRunner<LambdaCheck> = {
  run: async () => ({ kind: 'lambda', answer: { unavailable: 'no function may be invoked by this hook' } }),
};

export function deploymentHookPorts(
  clients: DeploymentHookClients,
  host: Host,
  checks: { lambda?: TrafficCheckRunner<LambdaCheck>; functions?: readonly string[] } = {},
): DeploymentHookPorts {
  return {
    deployments: new EcsNativeDeployments(clients.ecs),
    services: new EcsServiceControl(clients.ecs),
    metrics: cloudWatchMetrics(clients.cloudWatch),
    alarms: new CloudWatchAlarmStates(clients.cloudWatch),
    targets: new ElbTargetRegistry(clients.elbv2),
    trafficChecks: { http: new HttpTrafficCheck(host.http), lambda: checks.lambda ?? NO_LAMBDA_CHECKS },
    trafficCheckFunctions: checks.functions ?? [],
    clock: host.clock,
    journal: host.journal,
  };
}

/**
 * The services the hook serves (DEPLOYMENT_HOOK_SERVICES), checked against the settings' schema: a bad entry
 * stops the function at init. The alarm reactor and the ops API read them this way too.
 */
export function hookServices(given: unknown[]): DeploymentHookSettings['services'] {
  const parsed = HookServicesSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError('DEPLOYMENT_HOOK_SERVICES', `${issue.message} at ${issue.path.join('.')}`);
  }
  return parsed.data;
}

/**
 * The hook's own reading: also a lambda check of a function the stage does not allow stops it at init. Only
 * the hook invokes those functions, so only the hook holds the list (readers of the same settings do not).
 */
export function hookServicesInvoking(
  given: unknown[],
  allowedFunctions: readonly string[],
): DeploymentHookSettings['services'] {
  const services = hookServices(given);
  for (const [i, entry] of services.entries()) {
    const [problem] = entry.settings ? hookFunctionProblems(entry.settings, allowedFunctions) : [];
    if (problem)
      throw new ConfigError(
        'DEPLOYMENT_HOOK_SERVICES',
        `${problem.message} at ${i}.settings.${problem.path}`,
      );
  }
  return services;
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
      services: hookServicesInvoking(config.services, config.trafficCheckFunctions),
      ...(process.env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    },
    ports: deploymentHookPorts(deploymentHookClients({ maxAttempts: config.maxAttempts }), lambdaHost(), {
      lambda: lambdaChecksOver(lambdaCheckClient()),
      functions: config.trafficCheckFunctions,
    }),
  };
  return built;
}
