// The ops API's own ports over the twin: the operators' service and instance calls over the simulated
// cluster.
import { writeConfirmed } from '#adapters/aws/ecsServiceOperations';
import type { RecordedCall } from '#local/twin/lifecyclePorts';
import { SDK_MAX_ATTEMPTS } from '#local/twin/ports';
import type { World } from '#local/twin/world';
import type { InstanceFleet, ServiceOperations } from '#ports';

/** ListServices and UpdateService(forceNewDeployment) over the twin's cluster, recorded like every call. */
export function twinServiceOperations(world: World, call: RecordedCall): ServiceOperations {
  return {
    async forceNewDeployment(cluster, name) {
      // As the adapter does: UpdateService once per attempt (no SDK retry), and after a lost answer the
      // service is read again; a PRIMARY deployment other than the one before is this request's.
      const primary = () => {
        call('DescribeServices', `${cluster}/${name}`, false);
        return world.service(cluster, name)?.deployments.find((d) => d.status === 'PRIMARY')?.id;
      };
      const before = primary();
      await writeConfirmed({
        // Throws ServiceNotFoundException for a service the cluster does not have, as ECS does.
        send: async () =>
          call(
            'UpdateService',
            `${cluster}/${name} forceNewDeployment`,
            true,
            () => world.updateService(cluster, name, { forceNewDeployment: true }),
            1,
          ),
        tookEffect: async () => primary() !== before,
        attempts: SDK_MAX_ATTEMPTS,
        pause: async () => undefined,
      });
    },
    async listServices(cluster) {
      call('ListServices', cluster, false);
      return [...world.services.values()].filter((s) => s.cluster === cluster).map((s) => s.name);
    },
  };
}

/** ListContainerInstances and DescribeContainerInstances over the twin's cluster (registered instances only). */
export function twinInstanceFleet(world: World, call: RecordedCall): InstanceFleet {
  return {
    async list(cluster) {
      call('ListContainerInstances', cluster, false);
      const registered = world.instances.filter((i) => i.cluster === cluster && i.status !== 'REGISTERING');
      if (registered.length > 0) call('DescribeContainerInstances', cluster, false);
      return registered.map((instance) => {
        const tasks = world.tasksOn(instance.instanceId).filter((t) => t.desiredStatus === 'RUNNING');
        return {
          ec2InstanceId: instance.instanceId,
          status: instance.status,
          agentConnected: instance.agentConnected,
          runningTasks: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
          pendingTasks: tasks.filter((t) => t.lastStatus !== 'RUNNING').length,
        };
      });
    },
  };
}
