// The task recycler's switches, with defaults a careful SRE would accept: restart only what opted in,
// stop at most a quarter of a group at once, and alert rather than guess when no good revision exists.
import * as z from 'zod';

const seconds = (max: number) => z.number().int().min(0).max(max);

export const RecyclerPolicySchema = z.strictObject({
  restartStandalone: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Families restarted without a tag; tasks of other families opt in with `optInTag`. */
      families: z.array(z.string().min(1)).default([]),
      optInTag: z.string().min(1).default('ecs-reflex:restart'),
      maxRestarts: z.number().int().min(1).max(100).default(5),
      // ECS lists stopped tasks for about an hour: a longer window would count restarts it forgot.
      windowSeconds: seconds(3600).default(3600),
      backoffBaseSeconds: seconds(900).default(10),
      backoffMaxSeconds: seconds(3600).default(600),
      /** awsvpc tasks: DescribeTasks keeps the subnet but not the security groups, so they come from here. */
      network: z
        .record(
          z.string(),
          z.strictObject({
            // RunTask's awsvpcConfiguration takes at most 16 subnets and 5 security groups.
            subnets: z.array(z.string()).min(1).max(16).optional(),
            securityGroups: z.array(z.string()).min(1).max(5),
            assignPublicIp: z.boolean().default(false),
          }),
        )
        .default({}),
    })
    .prefault({}),
  stopUnhealthy: z
    .strictObject({
      enabled: z.boolean().default(true),
      graceSeconds: seconds(3600).default(120),
      /** Share of a group's running tasks that may be stopping because of this reflex at any moment. */
      maxStopShare: z.number().gt(0).max(1).default(0.25),
      /** Target groups ECS does not act on for these groups (a service's own target groups it handles). */
      watch: z
        .array(
          z.strictObject({
            cluster: z.string().min(1),
            group: z.string().regex(/^(service|family):.+/, 'group must be service:NAME or family:NAME'),
            targetGroupArns: z.array(z.string().startsWith('arn:')).min(1),
          }),
        )
        .default([]),
    })
    .prefault({}),
  crashLoopBreaker: z
    .strictObject({
      enabled: z.boolean().default(true),
      failures: z.number().int().min(2).max(100).default(3),
      windowSeconds: seconds(3600).default(600),
      /** A revision counts as good when it ran this long after its deployment finished. */
      minStableSeconds: seconds(7 * 24 * 3600).default(600),
      whenNoStableRevision: z.enum(['alert', 'scale-to-zero']).default('alert'),
    })
    .prefault({}),
  reportPlacementFailures: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
});

export type RecyclerPolicy = z.infer<typeof RecyclerPolicySchema>;

export const defaultRecyclerPolicy = (): RecyclerPolicy => RecyclerPolicySchema.parse({});
