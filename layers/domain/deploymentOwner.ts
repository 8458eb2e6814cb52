// Who owns a service's deployments right now. ECS's own scheduler with a rolling deployment leaves room for
// the reflexes; a service deployed by CodeDeploy or an external controller, or one in the middle of an ECS
// native blue/green, linear or canary deployment (ECS then shifts its traffic itself), belongs to that
// controller: a reflex alerts, it does not write (UpdateService, route weights).
import type { Service } from '#domain/model';

/** ECS native strategies that shift traffic between two revisions while a deployment runs. */
export const TRAFFIC_SHIFTING_STRATEGIES: readonly string[] = ['BLUE_GREEN', 'LINEAR', 'CANARY'];

/** A deployment is running: a second deployment, or the primary still rolling out. */
export function deploymentInProgress(service: Service): boolean {
  return service.deployments.length > 1 || service.deployments.some((d) => d.rolloutState === 'IN_PROGRESS');
}

/** Why another controller owns the service now; undefined when ECS's rolling scheduler does. */
export function otherController(service: Service): string | undefined {
  const controller = service.deploymentController ?? 'ECS';
  if (controller !== 'ECS') return `deployed by the ${controller} deployment controller`;
  const strategy = service.deploymentStrategy ?? 'ROLLING';
  if (TRAFFIC_SHIFTING_STRATEGIES.includes(strategy) && deploymentInProgress(service))
    return `in the middle of an ECS ${strategy} deployment`;
  return undefined;
}
