// Ids, ARNs and tokens a scenario gives the twin's resources, so that events and messages captured from a
// real account find them: their shapes, and checks that span the whole scenario (each ARN in the twin's
// account and region, in the cluster it is declared in, each id given once).
import * as z from 'zod';
import { TWIN_ACCOUNT, TWIN_REGION } from '#local/twin/world';

/** i- and 8 or 17 hex digits, as EC2 gives them. */
export const Ec2InstanceId = z
  .string()
  .regex(/^i-([0-9a-f]{8}|[0-9a-f]{17})$/, 'an EC2 instance id (i-0123456789abcdef0)');
/** The long ARN format (the cluster in the ARN); ECS ids are 32 hex digits. */
const ecsArn = (kind: string) =>
  z
    .string()
    .regex(
      new RegExp(`^arn:aws:ecs:[a-z0-9-]+:\\d{12}:${kind}/[A-Za-z0-9_-]{1,255}/[0-9a-f]{32}$`),
      `an ECS ${kind} ARN (arn:aws:ecs:REGION:ACCOUNT:${kind}/CLUSTER/ID)`,
    );
export const TaskArn = ecsArn('task');
export const ContainerInstanceArn = ecsArn('container-instance');
export const LifecycleActionToken = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    'a lifecycle action token (a UUID)',
  );
export const AlarmArn = z
  .string()
  .regex(/^arn:aws:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/, 'a CloudWatch alarm ARN');
export const SnsTopicArn = z
  .string()
  .regex(/^arn:[^:]+:sns:[^:]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'an SNS topic ARN');

export const GivenInstance = z.strictObject({
  ec2InstanceId: Ec2InstanceId.optional(),
  containerInstanceArn: ContainerInstanceArn.optional(),
});

type Path = (string | number)[];

/** What the checks need of a parsed scenario (the schema's output, before the identity checks). */
interface WithIdentities {
  world: {
    clusters: { name: string; instances: { count: number; ids?: z.infer<typeof GivenInstance>[] }[] }[];
    services: { cluster: string; desiredCount: number; taskArns: string[] }[];
    autoScalingGroups: {
      cluster: string;
      desired: number;
      ids: z.infer<typeof GivenInstance>[];
      hooks: { name: string; transition: 'launch' | 'terminate'; heartbeatTimeout: number }[];
      lifecycleActions: {
        hook: string;
        ec2InstanceId: string;
        containerInstanceArn?: string;
        lifecycleActionToken: string;
        startedAgo: number;
      }[];
    }[];
    alarms: { name: string; arn?: string }[];
  };
  timeline: ({ runTask: { cluster: string; count: number; taskArns?: string[] } } | object)[];
}

/**
 * The checks that need more than one field: given ARNs carry the twin's account and region (the twin runs
 * in one, and its functions refuse events of another: rewrite a capture's ids to it) and the cluster they
 * are declared in; no id, ARN or token is given twice; no more ids than resources; lifecycle actions name a
 * hook of their group.
 */
export function checkGivenIdentities(scenario: WithIdentities, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  const fail = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const once = (kind: string, value: string | undefined, path: Path) => {
    if (value === undefined) return;
    const key = `${kind} ${value}`;
    const first = seen.get(key);
    if (first !== undefined) fail(path, `${kind} ${value} is given twice (first at ${first})`);
    else seen.set(key, path.join('.'));
  };
  const here = (arn: string | undefined, path: Path, cluster?: string) => {
    if (arn === undefined) return;
    const [, , , region, account, resource = ''] = arn.split(':');
    if (account !== TWIN_ACCOUNT || region !== TWIN_REGION)
      fail(
        path,
        `${arn} is of account ${account} in ${region}; the twin runs in account ${TWIN_ACCOUNT} in ${TWIN_REGION}: give its ARNs there`,
      );
    const inCluster = resource.split('/')[1];
    if (cluster !== undefined && inCluster !== cluster)
      fail(path, `${arn} names cluster ${inCluster}, but it is declared in cluster ${cluster}`);
  };
  const instance = (ids: z.infer<typeof GivenInstance>, cluster: string, path: Path) => {
    once('ec2InstanceId', ids.ec2InstanceId, [...path, 'ec2InstanceId']);
    once('containerInstanceArn', ids.containerInstanceArn, [...path, 'containerInstanceArn']);
    here(ids.containerInstanceArn, [...path, 'containerInstanceArn'], cluster);
  };
  const tooMany = (given: number, room: number, path: Path, what: string) => {
    if (given > room) fail(path, `${given} ids given for ${room} ${what}`);
  };

  scenario.world.clusters.forEach((cluster, c) => {
    cluster.instances.forEach((entry, e) => {
      const path = ['world', 'clusters', c, 'instances', e, 'ids'];
      const given = entry.ids ?? [];
      tooMany(given.length, entry.count, path, 'instance(s)');
      for (const [i, ids] of given.entries()) instance(ids, cluster.name, [...path, i]);
    });
  });
  scenario.world.autoScalingGroups.forEach((group, g) => {
    const path = ['world', 'autoScalingGroups', g];
    const launching = group.lifecycleActions.filter(
      (a) => group.hooks.find((h) => h.name === a.hook)?.transition === 'launch',
    ).length;
    // Instances held by launch hooks count toward desired; those being terminated no longer do.
    tooMany(group.ids.length, group.desired - launching, [...path, 'ids'], 'instance(s) in service');
    for (const [i, ids] of group.ids.entries()) instance(ids, group.cluster, [...path, 'ids', i]);
    if (launching > group.desired)
      fail(
        [...path, 'lifecycleActions'],
        `${launching} launch actions for a desired capacity of ${group.desired}`,
      );
    group.lifecycleActions.forEach((action, a) => {
      const at = [...path, 'lifecycleActions', a];
      const hook = group.hooks.find((h) => h.name === action.hook);
      if (!hook)
        fail(
          [...at, 'hook'],
          `no hook ${action.hook} on this group (${group.hooks.map((h) => h.name).join(', ') || 'none'})`,
        );
      else if (action.startedAgo >= hook.heartbeatTimeout)
        fail(
          [...at, 'startedAgo'],
          `the hook's heartbeat timeout (${hook.heartbeatTimeout}s) has passed already`,
        );
      instance(action, group.cluster, at);
      once('lifecycleActionToken', action.lifecycleActionToken, [...at, 'lifecycleActionToken']);
    });
  });
  scenario.world.services.forEach((service, s) => {
    const path = ['world', 'services', s, 'taskArns'];
    tooMany(service.taskArns.length, service.desiredCount, path, 'task(s)');
    service.taskArns.forEach((arn, t) => {
      once('taskArn', arn, [...path, t]);
      here(arn, [...path, t], service.cluster);
    });
  });
  scenario.world.alarms.forEach((alarm, a) => {
    const path = ['world', 'alarms', a];
    once('alarm name', alarm.name, [...path, 'name']);
    if (alarm.arn === undefined) return;
    here(alarm.arn, [...path, 'arn']);
    const name = alarm.arn.split(':').slice(6).join(':');
    if (name !== alarm.name) fail([...path, 'arn'], `${alarm.arn} names alarm ${name}, not ${alarm.name}`);
  });
  scenario.timeline.forEach((step, s) => {
    if (!('runTask' in step) || step.runTask.taskArns === undefined) return;
    const path = ['timeline', s, 'runTask', 'taskArns'];
    tooMany(step.runTask.taskArns.length, step.runTask.count, path, 'task(s)');
    step.runTask.taskArns.forEach((arn, t) => {
      once('taskArn', arn, [...path, t]);
      here(arn, [...path, t], step.runTask.cluster);
    });
  });
}
