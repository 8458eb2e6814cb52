// What ECS RunTask accepts (API reference, RunTaskRequest and CapacityProviderStrategyItem), in one place:
// the recycler builds launches within it, and the twin refuses what is outside it as ECS would.

/**
 * One entry of RunTask's capacity provider strategy. ECS places no task on a provider of weight 0 and
 * refuses a strategy whose weights are all 0 (the default when `weight` is left out).
 */
export interface CapacityProviderShare {
  capacityProvider: string;
  /** 0–1000; at least one entry above 0. */
  weight: number;
  /** 0–100000, on at most one entry. */
  base?: number;
}

/** The parts of a RunTask request ECS checks (the port's TaskLaunch has this shape). */
export interface RunTaskShape {
  startedBy: string;
  launchType?: string;
  capacityProviderStrategy?: CapacityProviderShare[];
  overrides?: unknown;
  network?: { subnets: string[]; securityGroups: string[] };
  tags: Record<string, string>;
  clientToken: string;
}

export const RUN_TASK_LIMITS = {
  /** Tags per resource; `aws:` ones are refused outright (reserved for AWS, keys and values, any case). */
  tags: 50,
  tagKey: 128,
  tagValue: 256,
  /** Letters, digits, `-`, `/` and `_`. */
  startedBy: 128,
  /** Characters 33–126. */
  clientToken: 64,
  /** Characters of the overrides' JSON, formatting included. */
  overrides: 8192,
  subnets: 16,
  securityGroups: 5,
  strategyEntries: 20,
  weight: 1000,
  base: 100_000,
} as const;

const reserved = (text: string) => text.toLowerCase().startsWith('aws:');

/**
 * The tags a copy of a task can carry: never an `aws:` one (a task inherits them from CloudFormation or
 * its service, and RunTask refuses them), and no more than RunTask takes.
 */
export function copyableTags(tags: Record<string, string>): Record<string, string> {
  const kept = Object.entries(tags).filter(
    ([key, value]) =>
      !reserved(key) &&
      !reserved(value) &&
      key.length <= RUN_TASK_LIMITS.tagKey &&
      value.length <= RUN_TASK_LIMITS.tagValue,
  );
  return Object.fromEntries(kept.slice(0, RUN_TASK_LIMITS.tags));
}

/** Why ECS would refuse this launch with InvalidParameterException; empty when it would take it. */
export function runTaskProblems(launch: RunTaskShape): string[] {
  const problems: string[] = [];
  const strategy = launch.capacityProviderStrategy;
  if (strategy && launch.launchType)
    problems.push('launchType and capacityProviderStrategy cannot both be specified');
  if (strategy) {
    if (strategy.length === 0 || strategy.length > RUN_TASK_LIMITS.strategyEntries)
      problems.push(`capacityProviderStrategy takes 1 to ${RUN_TASK_LIMITS.strategyEntries} providers`);
    const inRange = (n: number | undefined, max: number) =>
      n === undefined || (Number.isInteger(n) && n >= 0 && n <= max);
    for (const item of strategy) {
      if (!inRange(item.weight, RUN_TASK_LIMITS.weight))
        problems.push(`weight of ${item.capacityProvider} must be 0 to ${RUN_TASK_LIMITS.weight}`);
      if (!inRange(item.base, RUN_TASK_LIMITS.base))
        problems.push(`base of ${item.capacityProvider} must be 0 to ${RUN_TASK_LIMITS.base}`);
    }
    if (strategy.length > 0 && !strategy.some((item) => (item.weight ?? 0) > 0))
      problems.push('at least one capacity provider must have a weight greater than zero');
    if (strategy.filter((item) => (item.base ?? 0) > 0).length > 1)
      problems.push('only one capacity provider in a strategy can have a base');
  }
  const tags = Object.entries(launch.tags);
  if (tags.length > RUN_TASK_LIMITS.tags) problems.push(`at most ${RUN_TASK_LIMITS.tags} tags`);
  for (const [key, value] of tags) {
    if (reserved(key) || reserved(value)) problems.push(`tag ${key}: the aws: prefix is reserved`);
    if (key.length === 0 || key.length > RUN_TASK_LIMITS.tagKey || value.length > RUN_TASK_LIMITS.tagValue)
      problems.push(
        `tag ${key.slice(0, 40)}: key 1-${RUN_TASK_LIMITS.tagKey}, value ≤${RUN_TASK_LIMITS.tagValue}`,
      );
  }
  if (!/^[A-Za-z0-9/_-]{0,128}$/.test(launch.startedBy))
    problems.push(`startedBy takes up to ${RUN_TASK_LIMITS.startedBy} letters, digits, -, / and _`);
  if (!/^[\x21-\x7e]{1,64}$/.test(launch.clientToken))
    problems.push(`clientToken takes 1 to ${RUN_TASK_LIMITS.clientToken} characters from 33 to 126`);
  if (launch.overrides !== undefined && JSON.stringify(launch.overrides).length > RUN_TASK_LIMITS.overrides)
    problems.push(`overrides take at most ${RUN_TASK_LIMITS.overrides} characters`);
  if (launch.network) {
    if (launch.network.subnets.length === 0 || launch.network.subnets.length > RUN_TASK_LIMITS.subnets)
      problems.push(`awsvpcConfiguration takes 1 to ${RUN_TASK_LIMITS.subnets} subnets`);
    if (launch.network.securityGroups.length > RUN_TASK_LIMITS.securityGroups)
      problems.push(`awsvpcConfiguration takes at most ${RUN_TASK_LIMITS.securityGroups} security groups`);
  }
  return problems;
}
