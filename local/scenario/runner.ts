// Runs one scenario on a fresh twin: build the world, play the timeline on the virtual clock, then check
// the expectations against what the reflexes did and how the world ended up.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { handleOpsRequest } from '#app/opsApi';
import { abortRollout, pauseRollout, promoteRollout, resumeRollout } from '#app/rollout';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import { rolloutRequestOf } from '#events/rollout';
import type { TaskRecyclerOptions } from '#functions/taskRecycler';
import { repoRoot } from '#local/repoRoot';
import {
  BlastRadiusChecker,
  type BlastRadiusReport,
  type ConfiguredScaleDowns,
} from '#local/scenario/blastRadius';
import { checkExpectation, type ExpectationResult } from '#local/scenario/expectations';
import { type Scenario, ScenarioSchema, type ScenarioStep } from '#local/scenario/schema';
import { nativeSettingsFrom } from '#local/twin/aws/ecs';
import type { Handler } from '#local/twin/lambdas';
import { seededRandom, settled } from '#local/twin/scheduler';
import type { TimelineEntry } from '#local/twin/timeline';
import { Twin, type TwinOptions } from '#local/twin/twin';
import type { ApiCall } from '#local/twin/world';
import type { JournalEntry } from '#ports';

export { repoRoot } from '#local/repoRoot';

export interface ScenarioResult {
  name: string;
  description: string;
  passed: boolean;
  virtualSeconds: number;
  wallMilliseconds: number;
  expectations: ExpectationResult[];
  timeline: TimelineEntry[];
  journal: JournalEntry[];
  apiCalls: ApiCall[];
  deliveredEvents: unknown[];
  deadLetters: string[];
  /** What the world converged to at the end: the parts a replay with duplicated events must match. */
  endState: ScenarioEndState;
  /** With `checkBlastRadius`: the steps looked at and the blast-radius invariants broken in them. */
  blastRadius?: BlastRadiusReport;
}

export interface ScenarioEndState {
  services: Record<string, { desired: number; running: number; taskDefinition: string | undefined }>;
  routes: Record<string, Record<string, number>>;
  groups: Record<string, { desired: number; inService: number }>;
  rollouts: Record<string, string | undefined>;
  lifecycleCompletions: Record<string, number>;
  /** Standalone tasks meant to run, per `cluster family:NAME`: a restart done twice shows here. */
  standalone: Record<string, number>;
}

/** A scenario file that does not follow the schema, or names a file that is not there. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError' as const;
}

/**
 * Reads and checks a scenario file. The files its steps name (`inject.file`, `sendMessage.bodyFile`) are
 * absolute or relative to the scenario file; they come back absolute, and each must exist.
 */
export function loadScenario(path: string): Scenario {
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScenarioError(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const scenario = parsed.data;
  const base = dirname(resolve(path));
  const absolute = (file: string, field: string) => {
    const full = resolve(base, file);
    if (!existsSync(full)) throw new ScenarioError(`${path}: ${field}: no file ${full}`);
    return full;
  };
  for (const [index, step] of scenario.timeline.entries()) {
    if ('inject' in step) step.inject.file = absolute(step.inject.file, `timeline.${index}.inject.file`);
    if ('sendMessage' in step && step.sendMessage.bodyFile !== undefined)
      step.sendMessage.bodyFile = absolute(
        step.sendMessage.bodyFile,
        `timeline.${index}.sendMessage.bodyFile`,
      );
  }
  return scenario;
}

/** A step's file: loadScenario made it absolute; a scenario built in code names it from the repository root. */
const stepFile = (file: string): string => (isAbsolute(file) ? file : join(repoRoot, file));

export interface RunOptions {
  /** Extra faults on top of the scenario's own, e.g. a test making every API flaky. */
  extraFaults?: {
    api: string;
    rate: number;
    error?: 'ThrottlingException' | 'ServerException' | 'TimeoutError';
  }[];
  /** Every event delivered `copies` times, reordered within `jitterSeconds`, for the whole run. */
  duplicate?: { copies: number; jitterSeconds: number; seed: number };
  /** Look at the blast-radius invariants after every step of the clock (local/scenario/blastRadius.ts). */
  checkBlastRadius?: boolean;
  /** The task recycler's handler options: the bench runs the storm with coalescing off and on. */
  recycler?: TaskRecyclerOptions;
  /** AWS's round trips and the recycler's concurrency, as the fleet runs ask for them. */
  deployment?: Pick<TwinOptions, 'awsLatency' | 'recyclerDeployment'>;
  /** Sees the twin once it is built, before anything runs (the bench watches its queues). */
  onTwin?: (twin: Twin) => void;
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const twin = prepareTwin(scenario, {
    ...(options.recycler && { recycler: options.recycler }),
    ...options.deployment,
  });
  options.onTwin?.(twin);
  const end = new Date(twin.scheduler.now().getTime() + scenario.duration * 1000);
  for (const extra of options.extraFaults ?? []) {
    twin.faults.add({
      api: extra.api,
      rate: extra.rate,
      error: extra.error ?? 'ThrottlingException',
      from: twin.scheduler.now(),
      until: end,
    });
  }
  if (options.duplicate) {
    const { copies, jitterSeconds, seed } = options.duplicate;
    twin.bus.duplicateAndReorder(end, copies, jitterSeconds, seededRandom(seed));
  }
  scheduleTimeline(twin, scenario);
  twin.start();
  const checker = options.checkBlastRadius ? blastRadiusChecker(twin, scenario) : undefined;
  await twin.scheduler.runUntil(end, { afterEachStep: checker?.afterEachStep });

  const expectations = scenario.expect.map((expectation) => checkExpectation(expectation, twin));
  for (const result of expectations) {
    twin.timeline.add(
      'expect',
      `${result.passed ? 'ok  ' : 'FAIL'} ${result.description} (actual: ${result.actual})`,
    );
  }
  return {
    name: scenario.name,
    description: scenario.description,
    passed: expectations.every((e) => e.passed),
    virtualSeconds: scenario.duration,
    wallMilliseconds: Math.round(performance.now() - wallStart),
    expectations,
    timeline: twin.timeline.entries,
    journal: twin.journal,
    apiCalls: twin.world.apiCalls,
    deliveredEvents: twin.timeline.entries
      .filter((e) => e.kind === 'event' && e.data?.event)
      .map((e) => e.data!.event),
    deadLetters: twin.deadLetters,
    endState: endStateOf(twin, scenario),
    ...(checker ? { blastRadius: checker.report() } : {}),
  };
}

/** The checker for this scenario's twin, its floor from the scenario's own recycler policy. */
export function blastRadiusChecker(twin: Twin, scenario: Scenario): BlastRadiusChecker {
  return new BlastRadiusChecker(twin, {
    scenario: scenario.name,
    maxStopShare: scenario.config.policy.stopUnhealthy.maxStopShare,
    scaleDowns: configuredScaleDowns(scenario, twin.declaredRoutes),
  });
}

/**
 * The scale-downs the scenario's rollouts name that a declared route allows (a route's declared stable for
 * `promote.scaleDownStable`, its declared canary for `rollback.scaleDownCanary`), and whether the crash-loop
 * breaker may scale to zero. A request naming any other service configures nothing: a reflex that scaled it
 * down anyway lowered a desired count it does not own.
 */
export function configuredScaleDowns(
  scenario: Scenario,
  declared: readonly DeclaredRoute[],
): ConfiguredScaleDowns {
  const keyOf = (t: { cluster: string; service: string }) => `${t.cluster}/${t.service}`;
  const declaredAs = (role: 'stable' | 'canary') =>
    new Set(declared.flatMap((d) => (d.services?.[role] ? [keyOf(d.services[role])] : [])));
  const stable = declaredAs('stable');
  const canary = declaredAs('canary');
  const services = scenario.timeline.flatMap((step) => {
    if (!('startRollout' in step)) return [];
    const { promote, rollback } = step.startRollout.request as {
      promote?: { scaleDownStable?: { cluster: string; service: string } };
      rollback?: { scaleDownCanary?: { cluster: string; service: string } };
    };
    const old = promote?.scaleDownStable && keyOf(promote.scaleDownStable);
    const canaryService = rollback?.scaleDownCanary && keyOf(rollback.scaleDownCanary);
    return [
      old && stable.has(old) ? old : undefined,
      canaryService && canary.has(canaryService) ? canaryService : undefined,
    ].flatMap((k) => (k ? [k] : []));
  });
  return {
    services,
    crashLoopScaleToZero: scenario.config.policy.crashLoopBreaker.whenNoStableRevision === 'scale-to-zero',
  };
}

/**
 * Services' counts and revisions, routes' weights, groups' sizes, rollouts' status, lifecycle results,
 * standalone tasks running.
 */
export function endStateOf(twin: Twin, scenario: Scenario): ScenarioEndState {
  const services: ScenarioEndState['services'] = {};
  for (const service of twin.world.services.values()) {
    services[`${service.cluster}/${service.name}`] = {
      desired: service.desiredCount,
      running: twin.world
        .runningTasks(service.cluster, `service:${service.name}`)
        .filter((t) => t.lastStatus === 'RUNNING').length,
      taskDefinition: service.deployments.find((d) => d.status === 'PRIMARY')?.taskDefinitionArn,
    };
  }
  const routeNames = [
    ...scenario.world.traffic.meshRoutes.map((r) => r.routeName),
    ...scenario.world.traffic.listenerRules.map((r) => r.name),
    ...scenario.world.traffic.latticeRoutes.map((r) => r.name),
  ];
  const routes = Object.fromEntries(routeNames.map((name) => [name, twin.traffic.weightsNow(name)]));
  const groups: ScenarioEndState['groups'] = {};
  for (const group of twin.scaling.groups.values())
    groups[group.name] = { desired: group.desired, inService: group.instances.length };
  const rollouts: ScenarioEndState['rollouts'] = {};
  for (const step of scenario.timeline)
    if ('startRollout' in step)
      rollouts[step.startRollout.name] = twin.rolloutRun(step.startRollout.name)?.status;
  const lifecycleCompletions: Record<string, number> = {};
  for (const completion of twin.lifecycle.completions)
    lifecycleCompletions[completion.result] = (lifecycleCompletions[completion.result] ?? 0) + 1;
  const standalone: Record<string, number> = {};
  for (const task of twin.world.liveTasks())
    if (task.group.startsWith('family:') && task.desiredStatus === 'RUNNING') {
      standalone[task.groupKey] = (standalone[task.groupKey] ?? 0) + 1;
    }
  return { services, routes, groups, rollouts, lifecycleCompletions, standalone };
}

/** Plays the scenario's timeline on the twin's clock, each step at its time. */
export function scheduleTimeline(twin: Twin, scenario: Scenario): void {
  for (const step of scenario.timeline) {
    // A person's request (promote, pause...) goes through SDK clients and is not awaited here: the step
    // lets it settle before the clock moves on, as it would have answered within that instant.
    twin.scheduler.after(step.at, 'timeline', () => {
      playStep(twin, step);
      return settled();
    });
  }
}

/** A twin holding the scenario's world, its clockwork not started yet, its timeline not scheduled. */
export function prepareTwin(
  scenario: Scenario,
  options: Pick<TwinOptions, 'recycler' | 'awsLatency' | 'recyclerDeployment'> = {},
): Twin {
  const twin = new Twin({
    seed: scenario.seed,
    settings: scenario.config,
    alarmReactor: scenario.config.alarmReactor,
    lifecycle: scenario.config.lifecycle,
    deploymentHookServices: scenario.config.deploymentHookServices,
    ...options,
  });
  buildWorld(twin, scenario);
  return twin;
}

function buildWorld(twin: Twin, scenario: Scenario): void {
  const { world } = twin;
  const start = twin.scheduler.now().getTime();
  for (const cluster of scenario.world.clusters) {
    world.addCluster(cluster.name);
    for (const group of cluster.instances) {
      for (let i = 0; i < group.count; i++)
        world.addInstance(cluster.name, group.cpu, group.memory, undefined, group.ids?.[i]);
    }
  }
  for (const td of scenario.world.taskDefinitions) {
    world.addTaskDefinition({
      family: td.family,
      revision: td.revision,
      cpu: td.cpu,
      memory: td.memory,
      networkMode: td.networkMode,
      containerName: td.container.name,
      containerPort: td.container.port,
      behaviour: { startSeconds: 15, healthy: true, ...td.behaviour },
    });
  }
  for (const tg of scenario.world.targetGroups) {
    world.addTargetGroup({
      name: tg.name,
      port: tg.port,
      targetType: tg.targetType,
      deregistrationDelaySeconds: tg.deregistrationDelay,
    });
  }
  // Groups first: their instances are the room the services' tasks start in.
  for (const group of scenario.world.autoScalingGroups) {
    twin.scaling.addGroup(
      {
        name: group.name,
        cluster: group.cluster,
        min: group.min,
        max: group.max,
        desired: group.desired,
        instance: group.instance,
        launchSeconds: group.launchTime,
        agent:
          group.agent === undefined || group.agent === 'never'
            ? group.agent
            : { delaySeconds: group.agent.delay },
        managedDraining: group.managedDraining,
        ...(group.warmPool ? { warmPool: group.warmPool } : {}),
        targetGroups: group.targetGroups.map((ref) => {
          const [name, port] = [
            ref.slice(0, ref.lastIndexOf(':')),
            Number(ref.slice(ref.lastIndexOf(':') + 1)),
          ];
          return { arn: world.targetGroup(name).arn, port };
        }),
        policies: new Map(
          group.policies.map((p) => [
            p.name,
            p.type === 'StepScaling' ? { ...p, adjustmentType: 'ChangeInCapacity' as const } : p,
          ]),
        ),
      },
      group.ids,
    );
    // Instances a seeded lifecycle action holds, before the services: tasks run on a terminating one too.
    for (const action of group.lifecycleActions) {
      const transition = group.hooks.find((h) => h.name === action.hook)!.transition;
      twin.scaling.addHeld(group.name, transition, action);
    }
  }
  for (const service of scenario.world.services) {
    world.addService({
      cluster: service.cluster,
      name: service.name,
      taskDefinition: service.taskDefinition,
      desiredCount: service.desiredCount,
      targetGroups: service.targetGroups,
      circuitBreaker: service.circuitBreaker,
      deploymentController: service.deploymentController,
      strategy: service.strategy,
      maximumPercent: service.maximumPercent,
      healthCheckGraceSeconds: service.healthCheckGracePeriod,
      taskArns: service.taskArns,
      history: service.history.map((h) => ({
        taskDefinitionArn: world.taskDefinition(h.taskDefinition).arn,
        status: 'SUCCESSFUL',
        startedAt: new Date(start - h.startedAgo * 1000),
        finishedAt: new Date(start - h.finishedAgo * 1000),
      })),
    });
  }
  for (const group of scenario.world.autoScalingGroups) {
    for (const hook of group.hooks) {
      twin.lifecycle.addHook(group.name, {
        name: hook.name,
        transition: hook.transition,
        heartbeatTimeoutSeconds: hook.heartbeatTimeout,
        defaultResult: hook.defaultResult,
        notifiesQueue: hook.notifiesQueue,
      });
    }
    for (const action of group.lifecycleActions) {
      twin.lifecycle.seedAction({
        groupName: group.name,
        hookName: action.hook,
        instanceId: action.ec2InstanceId,
        token: action.lifecycleActionToken,
        startedAt: new Date(start - action.startedAgo * 1000),
      });
    }
  }
  for (const scaling of scenario.world.serviceScaling) {
    twin.scaling.addServiceScaling({
      ...scaling,
      policies: new Map(scaling.policies.map((p) => [p.name, p])),
    });
  }
  const { traffic } = twin;
  for (const route of scenario.world.traffic.meshRoutes) {
    const { rps, services: _services, ...rest } = route;
    traffic.addMeshRoute({ ...rest, rps });
  }
  for (const rule of scenario.world.traffic.listenerRules) {
    const { services: _services, ...rest } = rule;
    traffic.addListenerRule(rest);
  }
  for (const route of scenario.world.traffic.latticeRoutes) {
    const { services: _services, ...rest } = route;
    traffic.addLatticeRoute(rest);
  }
  twin.declaredRoutes.push(...declaredRoutes(twin, scenario));
  for (const { name, ...script } of scenario.world.functions) {
    // One handler for every cold start: the answers go on in turn, whichever environment runs.
    const handler = scripted(script);
    twin.lambdas.function(name, () => handler);
    twin.trafficCheckFunctions.push(name);
  }
  for (const service of scenario.world.services) {
    if (!service.native) continue;
    const state = world.service(service.cluster, service.name)!;
    const request = resolveTwinRefs(twin, service.native) as Parameters<typeof nativeSettingsFrom>[0];
    const settings = nativeSettingsFrom(request, state, undefined, world);
    if (!settings)
      throw new Error(
        `service ${service.name}: native settings need a BLUE_GREEN, LINEAR or CANARY strategy`,
      );
    twin.nativeDeployments.configure(state, settings);
  }
  for (const [version, profile] of Object.entries(scenario.world.traffic.profiles))
    traffic.setProfile(version, profile);
  for (const alarm of scenario.world.alarms) {
    if ('rule' in alarm) twin.cloudWatch.addAlarm({ kind: 'composite', ...alarm });
    else {
      twin.cloudWatch.addAlarm({
        kind: 'metric',
        ...alarm,
        dimensions: resolveTwinRefs(twin, alarm.dimensions) as Record<string, string>,
        periodSeconds: 60,
        datapointsToAlarm: alarm.datapointsToAlarm ?? alarm.evaluationPeriods,
      });
    }
  }
  // Scenarios name target groups as `arn:tg:NAME`; the recycler's config needs the twin's real ARNs.
  for (const watch of scenario.config.policy.stopUnhealthy.watch) {
    watch.targetGroupArns = watch.targetGroupArns.map((ref) =>
      ref.startsWith('arn:tg:') ? world.targetGroup(ref.slice('arn:tg:'.length)).arn : ref,
    );
  }
  for (const hook of scenario.config.lifecycle.hooks) {
    hook.targetGroups = hook.targetGroups.map((tg) =>
      tg.arn.startsWith('arn:tg:')
        ? { ...tg, arn: world.targetGroup(tg.arn.slice('arn:tg:'.length)).arn }
        : tg,
    );
  }
}

/**
 * Each route of the scenario's traffic, declared as rollouts may use it (as OPS_ROUTES declares routes in
 * AWS): named as the scenario names it, stable first and canary second, with the services the scenario
 * gives it (none: a rollout on it may scale nothing).
 */
function declaredRoutes(twin: Twin, scenario: Scenario): DeclaredRoute[] {
  const mesh = scenario.world.traffic.meshRoutes.map((r) => ({
    name: r.routeName,
    route: {
      router: 'appmesh' as const,
      meshName: r.meshName,
      virtualRouterName: r.virtualRouterName,
      routeName: r.routeName,
      stable: r.targets[0]!.virtualNode,
      canary: r.targets[1]!.virtualNode,
    },
    ...(r.services ? { services: r.services } : {}),
  }));
  const alb = scenario.world.traffic.listenerRules.map((r) => {
    const info = twin.traffic.route(r.name);
    return {
      name: r.name,
      route: {
        router: 'alb' as const,
        listenerArn: info.listenerArn!,
        ...(info.ruleArn ? { ruleArn: info.ruleArn } : {}),
        stable: twin.world.targetGroup(r.targetGroups[0]!.targetGroup).arn,
        canary: twin.world.targetGroup(r.targetGroups[1]!.targetGroup).arn,
      },
      ...(r.services ? { services: r.services } : {}),
    };
  });
  const lattice = scenario.world.traffic.latticeRoutes.map((r) => {
    const info = twin.traffic.route(r.name);
    const groupOf = (i: number) => {
      const group = r.targetGroups[i]?.targetGroup;
      return group === undefined ? undefined : twin.traffic.lattice.targetGroup(group).arn;
    };
    return {
      name: r.name,
      route: {
        router: 'lattice' as const,
        listenerArn: info.listenerArn!,
        ...(info.ruleArn ? { ruleArn: info.ruleArn } : {}),
        stable: groupOf(0) as string,
        canary: groupOf(1) as string,
      },
      ...(r.services ? { services: r.services } : {}),
    };
  });
  return [...mesh, ...alb, ...lattice].filter(
    (d) => d.route.stable !== undefined && d.route.canary !== undefined,
  );
}

/** A scenario's stand-in function: its answers in turn (the last one again and again), or an error. */
export function scripted(script: { answers: unknown[] } | { throws: string }): Handler {
  let asked = 0;
  return async () => {
    if ('throws' in script) throw new Error(script.throws);
    return script.answers[Math.min(asked++, script.answers.length - 1)];
  };
}

/**
 * `@tg:NAME`, `@tgDimension:NAME`, `@loadBalancer:ROUTE`, `@listener:ROUTE`, `@rule:ROUTE`,
 * `@latticeTg:NAME` (a VPC Lattice target group's ARN), `@latticeTgId:NAME` (its ID, the TargetGroup
 * dimension of its metrics), `@instance:GROUP:N`, `@lambda:FUNCTION` -> the twin's values.
 */
function resolveTwinRefs(twin: Twin, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveTwinRefs(twin, v));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTwinRefs(twin, v)]));
  if (typeof value !== 'string' || !value.startsWith('@')) return value;
  const [kind, name = ''] = value.slice(1).split(/:(.*)/s);
  switch (kind) {
    case 'tg':
      return twin.world.targetGroup(name).arn;
    case 'tgDimension':
      return twin.world.targetGroup(name).arn.replace(/^.*:/, '');
    case 'latticeTg':
      return twin.traffic.lattice.targetGroup(name).arn;
    case 'latticeTgId':
      return twin.traffic.lattice.targetGroup(name).id;
    case 'loadBalancer':
      return twin.traffic.route(name).loadBalancer;
    case 'listener':
      return twin.traffic.route(name).listenerArn;
    case 'rule':
      return twin.traffic.route(name).ruleArn;
    case 'lambda':
      return twin.nativeDeployments.functionArn(name);
    case 'instance': {
      const [group = '', index = '0'] = name.split(':');
      const instanceId = twin.scaling.group(group).instances[Number(index)];
      if (!instanceId) throw new Error(`group ${group} has no in-service instance ${index}`);
      return instanceId;
    }
    default:
      throw new Error(`unknown twin reference ${value}`);
  }
}

/** What a person's request to a rollout came to (as the ops API would answer), on the timeline. */
function answered(timeline: Twin['timeline'], what: string, answer: Promise<string>): void {
  void answer.then(
    (result) => timeline.add('world', `${what}: ${result}`),
    (error: unknown) =>
      timeline.add('world', `${what} failed: ${error instanceof Error ? error.message : error}`),
  );
}

/** A person's signed request to the ops API's write function, for the deployment in progress. */
async function answerGate(twin: Twin, cluster: string, service: string, decision: string): Promise<string> {
  const state = twin.world.service(cluster, service);
  const deployment = state && twin.nativeDeployments.inProgress(state);
  const id = deployment?.arn.slice(deployment.arn.lastIndexOf('/') + 1) ?? 'none';
  const response = await handleOpsRequest(
    {
      method: 'POST',
      path: `/deployments/${cluster}/${service}/${id}/${decision}`,
      query: {},
      headers: { 'content-type': 'application/json' },
      body: '{}',
      caller: 'arn:aws:iam::111122223333:user/release-manager',
    },
    {
      ports: twin.opsPorts,
      settings: {
        routes: twin.declaredRoutes,
        clusters: [cluster],
        serves: ['write'],
        hookServices: twin.deploymentHookServices,
      },
      clock: twin.scheduler,
    },
  );
  return `${response.statusCode} ${response.body}`;
}

function playStep(twin: Twin, step: ScenarioStep): void {
  const { world, timeline } = twin;
  if ('note' in step) timeline.add('world', step.note);
  else if ('deploy' in step) {
    const td = world.taskDefinition(step.deploy.taskDefinition);
    timeline.add('world', `deploy ${step.deploy.taskDefinition} to ${step.deploy.service}`);
    const service = world.service(step.deploy.cluster, step.deploy.service);
    if (!service) throw new Error(`no service ${step.deploy.service} in ${step.deploy.cluster}`);
    twin.nativeDeployments.deploy(service, td.arn);
  } else if ('scale' in step) {
    timeline.add('world', `scale ${step.scale.service} to ${step.scale.desiredCount}`);
    world.updateService(step.scale.cluster, step.scale.service, { desiredCount: step.scale.desiredCount });
  } else if ('runTask' in step) {
    const { cluster, taskDefinition, count, tags, registerIn, capacityProvider, behaviour, taskArns } =
      step.runTask;
    for (let i = 0; i < count; i++) {
      const result = world.runTask({
        taskArn: taskArns?.[i],
        cluster,
        taskDefinitionArn: world.taskDefinition(taskDefinition).arn,
        startedBy: 'scenario',
        tags,
        capacityProviderName: capacityProvider,
        registerIn: registerIn.map((name) => world.targetGroup(name).arn),
        behaviour,
      });
      timeline.add(
        'world',
        'failure' in result
          ? `RunTask ${taskDefinition} failed: ${result.failure}`
          : `RunTask ${taskDefinition} started ${result.id.slice(0, 8)}`,
      );
    }
  } else if ('crash' in step) {
    const { cluster, group, exitCode, oom, count, repeat } = step.crash;
    if (repeat && repeat.times > 1) {
      const next = { ...step.crash, repeat: { ...repeat, times: repeat.times - 1 } };
      twin.scheduler.after(repeat.every, 'timeline', () => {
        playStep(twin, { at: step.at + repeat.every, crash: next });
        return settled();
      });
    }
    const victims = world
      .runningTasks(cluster, group)
      .filter((t) => t.lastStatus === 'RUNNING')
      .slice(0, count);
    timeline.add(
      'world',
      `${victims.length} task(s) of ${group} ${oom ? 'run out of memory' : `exit with ${exitCode}`}`,
    );
    for (const task of victims)
      world.crash(
        task,
        oom ? 137 : exitCode,
        oom ? 'OutOfMemoryError: Container killed due to memory usage' : undefined,
      );
  } else if ('setBehaviour' in step) {
    const td = world.taskDefinition(step.setBehaviour.taskDefinition);
    td.behaviour = { ...td.behaviour, ...step.setBehaviour.behaviour };
    timeline.add(
      'world',
      `tasks of ${step.setBehaviour.taskDefinition} now behave: ${JSON.stringify(step.setBehaviour.behaviour)}`,
    );
  } else if ('failHealthChecks' in step) {
    const { cluster, group, count } = step.failHealthChecks;
    const victims = world.runningTasks(cluster, group).slice(0, count);
    for (const task of victims) task.behaviour = { ...task.behaviour, healthy: false };
    timeline.add('world', `${victims.length} task(s) of ${group} start failing health checks`);
  } else if ('recoverHealthChecks' in step) {
    const { cluster, group } = step.recoverHealthChecks;
    for (const task of world.runningTasks(cluster, group))
      task.behaviour = { ...task.behaviour, healthy: true };
    timeline.add('world', `tasks of ${group} pass health checks again`);
  } else if ('fault' in step) {
    const { api, rate, error } = step.fault;
    const from = twin.scheduler.now();
    twin.faults.add({ api, rate, error, from, until: new Date(from.getTime() + step.fault.for * 1000) });
    timeline.add('fault', `${api} fails with ${error} at rate ${rate} for ${step.fault.for}s`);
  } else if ('addInstances' in step) {
    const { cluster, count, cpu, memory } = step.addInstances;
    for (let i = 0; i < count; i++) world.addInstance(cluster, cpu, memory);
    timeline.add('world', `${count} instance(s) join ${cluster}`);
  } else if ('duplicateEvents' in step) {
    const { copies, jitter } = step.duplicateEvents;
    const until = new Date(twin.scheduler.now().getTime() + step.duplicateEvents.for * 1000);
    twin.bus.duplicateAndReorder(until, copies, jitter, seededRandom(copies * 7919 + jitter));
    timeline.add(
      'fault',
      `every event delivered ${copies} times, reordered within ${jitter}s, for ${step.duplicateEvents.for}s`,
    );
  } else if ('setMetric' in step) {
    const { metric, dimensions, value } = step.setMetric;
    twin.cloudWatch.setGauge(metric, dimensions, value);
    timeline.add('world', `${metric} ${JSON.stringify(dimensions)} is now ${value}`);
  } else if ('manualEdit' in step) {
    const edit = step.manualEdit;
    if ('desired' in edit) twin.scaling.setDesiredCapacity(edit.group, edit.desired);
    else {
      const policy = twin.scaling.group(edit.group).policies.get(edit.policy);
      if (policy?.type === 'TargetTrackingScaling') policy.targetValue = edit.targetValue;
    }
    timeline.add('world', `a person edits ${JSON.stringify(edit)} by hand`);
  } else if ('startRollout' in step) {
    twin.startRollout(step.startRollout.name, resolveTwinRefs(twin, step.startRollout.request));
  } else if ('resumeRollout' in step) {
    const { name } = step.resumeRollout;
    timeline.add('world', `a person resumes rollout ${name}`);
    answered(timeline, `resume rollout ${name}`, resumeRollout(name, twin.rolloutPorts));
  } else if ('pauseRollout' in step) {
    const { name } = step.pauseRollout;
    timeline.add('world', `a person pauses rollout ${name}`);
    answered(timeline, `pause rollout ${name}`, pauseRollout(name, twin.rolloutPorts, rolloutRequestOf));
  } else if ('promoteRollout' in step) {
    const { name } = step.promoteRollout;
    timeline.add('world', `a person promotes rollout ${name}`);
    answered(timeline, `promote rollout ${name}`, promoteRollout(name, twin.rolloutPorts, rolloutRequestOf));
  } else if ('abortRollout' in step) {
    const { name } = step.abortRollout;
    timeline.add('world', `a person aborts rollout ${name}`);
    answered(
      timeline,
      `abort rollout ${name}`,
      abortRollout(name, 'aborted by a person', twin.rolloutPorts, rolloutRequestOf),
    );
  } else if ('answerDeploymentGate' in step) {
    const { cluster, service, decision } = step.answerDeploymentGate;
    timeline.add('world', `a person answers ${decision} at the deployment hook's gate of ${service}`);
    answered(timeline, `${decision} the gate of ${service}`, answerGate(twin, cluster, service, decision));
  } else if ('crashFunction' in step) {
    const { function: name, for: seconds } = step.crashFunction;
    twin.lambdas.crashUntil.set(name, new Date(twin.scheduler.now().getTime() + seconds * 1000));
    timeline.add('fault', `${name} crashes on every invocation for ${seconds}s`);
  } else if ('setProfile' in step) {
    const { version, ...profile } = step.setProfile;
    twin.traffic.setProfile(version, profile);
    timeline.add('world', `${version} now answers ${JSON.stringify(profile)}`);
  } else if ('setRate' in step) {
    twin.traffic.setRate(step.setRate.route, step.setRate.rps);
    timeline.add('world', `route ${step.setRate.route} now takes ${step.setRate.rps} requests/s`);
  } else if ('editWeights' in step) {
    twin.traffic.manualEdit(step.editWeights.route, step.editWeights.weights);
    timeline.add(
      'world',
      `a person sets route ${step.editWeights.route} to ${JSON.stringify(step.editWeights.weights)}`,
    );
  } else if ('inject' in step) {
    twin.inject(resolveTwinRefs(twin, JSON.parse(readFileSync(stepFile(step.inject.file), 'utf8'))));
  } else if ('sendMessage' in step) {
    const { queue, body, bodyFile, sns } = step.sendMessage;
    const text = bodyText(
      twin,
      bodyFile === undefined ? body : readFileSync(stepFile(bodyFile), 'utf8'),
      bodyFile !== undefined,
    );
    twin.sendMessage(queue, sns ? snsEnvelope(twin, sns, text) : text, sns?.topicArn);
  }
}

/**
 * A message body as SQS carries it: a string as it is; JSON (given inline, or a file's text that parses as
 * JSON) compact, its `@` references resolved; a file's other text as it is.
 */
function bodyText(twin: Twin, body: unknown, fromFile: boolean): string {
  if (typeof body === 'string' && !fromFile) return body;
  let value = body;
  if (fromFile) {
    try {
      value = JSON.parse(body as string);
    } catch {
      return body as string;
    }
  }
  return JSON.stringify(resolveTwinRefs(twin, value));
}

/** The envelope SNS puts around a message it delivers to an SQS subscription without raw message delivery. */
function snsEnvelope(twin: Twin, sns: { topicArn: string; subject?: string }, message: string): string {
  const id = twin.world.newId();
  const region = sns.topicArn.split(':')[3];
  return JSON.stringify({
    Type: 'Notification',
    MessageId: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
    TopicArn: sns.topicArn,
    ...(sns.subject !== undefined ? { Subject: sns.subject } : {}),
    Message: message,
    Timestamp: twin.scheduler.now().toISOString(),
    SignatureVersion: '1',
    // Never verified by the reflexes; a real envelope carries SNS's signature here.
    Signature: 'dHdpbg==',
    SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-twin.pem`,
    UnsubscribeURL: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${sns.topicArn}:${id.slice(0, 8)}`,
  });
}
