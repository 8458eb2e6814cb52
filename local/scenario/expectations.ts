// Expectations are about what a user would see: which reflex actions happened, which AWS calls were
// made and in what order, and the state the cluster ended in.
import type { ScenarioExpectation } from '#local/scenario/schema';
import type { TimelineEntry } from '#local/twin/timeline';
import type { Twin } from '#local/twin/twin';
import { taskRecyclerWiring } from '#local/twin/wiring';
import type { ApiCall } from '#local/twin/world';

export interface ExpectationResult {
  description: string;
  passed: boolean;
  actual: string;
}

interface CountSpec {
  count?: number;
  atLeast?: number;
  atMost?: number;
}

function countMatches(spec: CountSpec, actual: number): boolean {
  if (spec.count !== undefined && actual !== spec.count) return false;
  if (spec.atLeast !== undefined && actual < spec.atLeast) return false;
  if (spec.atMost !== undefined && actual > spec.atMost) return false;
  return spec.count !== undefined || spec.atLeast !== undefined || spec.atMost !== undefined || actual > 0;
}

function describeCount(spec: CountSpec): string {
  if (spec.count !== undefined) return `exactly ${spec.count}`;
  const parts = [
    spec.atLeast !== undefined && `at least ${spec.atLeast}`,
    spec.atMost !== undefined && `at most ${spec.atMost}`,
  ];
  return parts.filter(Boolean).join(' and ') || 'at least one';
}

export function checkExpectation(expectation: ScenarioExpectation, twin: Twin): ExpectationResult {
  if ('readsPerEvent' in expectation) {
    const { reads, events } = recyclerReads(twin.timeline.entries, twin.world.apiCalls);
    const perEvent = events === 0 ? 0 : reads / events;
    return {
      description: `at most ${expectation.atMost} AWS read(s) by the task recycler per event delivered to it`,
      passed: perEvent <= expectation.atMost,
      actual: `${perEvent.toFixed(3)} (${reads} reads, ${events} events)`,
    };
  }
  if ('action' in expectation) {
    const matching = twin.journal.filter(
      (e) =>
        e.action === expectation.action &&
        (!expectation.outcome || e.outcome === expectation.outcome) &&
        (!expectation.target || e.target.includes(expectation.target)),
    );
    const what = `${expectation.action}${expectation.outcome ? ` [${expectation.outcome}]` : ''}${expectation.target ? ` on ${expectation.target}` : ''}`;
    return {
      description: `${describeCount(expectation)} ${what}`,
      passed: countMatches(expectation, matching.length),
      actual: String(matching.length),
    };
  }
  if ('api' in expectation) {
    const calls = twin.world.apiCalls.filter(
      (c) =>
        c.api === expectation.api &&
        Boolean(c.failed) === Boolean(expectation.failed) &&
        (!expectation.target || c.target.includes(expectation.target)),
    );
    return {
      description: `${describeCount(expectation)} ${expectation.failed ? 'failed' : 'successful'} ${expectation.api}${expectation.target ? ` on ${expectation.target}` : ''}`,
      passed: countMatches(expectation, calls.length),
      actual: String(calls.length),
    };
  }
  if ('apiOrder' in expectation) {
    const calls = twin.world.apiCalls
      .filter((c) => !c.failed && c.write && (!expectation.target || c.target.includes(expectation.target)))
      .map((c) => c.api);
    let next = 0;
    for (const api of calls) if (api === expectation.apiOrder[next]) next += 1;
    return {
      description: `writes happen in the order ${expectation.apiOrder.join(' -> ')}`,
      passed: next >= expectation.apiOrder.length,
      actual: calls.join(' -> ') || 'no writes',
    };
  }
  if ('service' in expectation) {
    const { cluster, name } = expectation.service;
    const service = twin.world.service(cluster, name);
    if (!service) return { description: `service ${name} exists`, passed: false, actual: 'missing' };
    const primary = service.deployments.find((d) => d.status === 'PRIMARY')!;
    const td = twin.world.taskDefinition(primary.taskDefinitionArn);
    const running = twin.world
      .runningTasks(cluster, `service:${name}`)
      .filter((t) => t.lastStatus === 'RUNNING').length;
    const checks: [string, boolean][] = [];
    if (expectation.taskDefinition)
      checks.push([
        `runs ${expectation.taskDefinition}`,
        `${td.family}:${td.revision}` === expectation.taskDefinition,
      ]);
    if (expectation.runningCount !== undefined)
      checks.push([`has ${expectation.runningCount} running`, running === expectation.runningCount]);
    if (expectation.desiredCount !== undefined)
      checks.push([`wants ${expectation.desiredCount}`, service.desiredCount === expectation.desiredCount]);
    if (expectation.rolloutState)
      checks.push([
        `deployment ${expectation.rolloutState}`,
        primary.rolloutState === expectation.rolloutState,
      ]);
    return {
      description: `service ${name} ${checks.map(([d]) => d).join(', ')}`,
      passed: checks.every(([, ok]) => ok),
      actual: `${td.family}:${td.revision}, ${running} running, desired ${service.desiredCount}, ${primary.rolloutState}`,
    };
  }
  if ('running' in expectation) {
    const { cluster, group } = expectation.running;
    const running = twin.world.runningTasks(cluster, group).filter((t) => t.lastStatus === 'RUNNING').length;
    return {
      description: `${describeCount(expectation)} running task(s) in ${group}`,
      passed: countMatches(expectation, running),
      actual: String(running),
    };
  }
  if ('lowWater' in expectation) {
    const { cluster, group, after } = expectation.lowWater;
    const from = twin.scheduler.start.getTime() + after * 1000;
    const history = twin.world.runningHistory.get(`${cluster} ${group}`) ?? [];
    const before = history.filter((h) => h.at.getTime() <= from).at(-1);
    const counts = [...(before ? [before] : []), ...history.filter((h) => h.at.getTime() > from)].map(
      (h) => h.running,
    );
    const low = counts.length > 0 ? Math.min(...counts) : 0;
    return {
      description: `${describeCount(expectation)} running task(s) in ${group} at every moment after ${after}s`,
      passed: countMatches(expectation, low),
      actual: `low water ${low}`,
    };
  }
  if ('deadLetters' in expectation) {
    return {
      description: `${describeCount(expectation)} dead-lettered message(s)`,
      passed: countMatches(expectation, twin.deadLetters.length),
      actual: String(twin.deadLetters.length),
    };
  }
  if ('notifications' in expectation) {
    const sent = twin.recorders.notifications.filter(
      (n) => !expectation.subject || n.subject.includes(expectation.subject),
    );
    return {
      description: `${describeCount(expectation)} notification(s)${expectation.subject ? ` about "${expectation.subject}"` : ''}`,
      passed: countMatches(expectation, sent.length),
      actual: String(sent.length),
    };
  }
  if ('autoScalingGroup' in expectation) {
    const group = twin.scaling.groups.get(expectation.autoScalingGroup);
    if (!group)
      return {
        description: `group ${expectation.autoScalingGroup} exists`,
        passed: false,
        actual: 'missing',
      };
    const checks: [string, boolean][] = [];
    if (expectation.desired !== undefined)
      checks.push([`desired ${expectation.desired}`, group.desired === expectation.desired]);
    if (expectation.inService !== undefined) {
      checks.push([`${expectation.inService} in service`, group.instances.length === expectation.inService]);
    }
    if (expectation.warmStopped !== undefined) {
      checks.push([
        `${expectation.warmStopped} stopped in the warm pool`,
        group.warm.length === expectation.warmStopped,
      ]);
    }
    const warm = group.warmPool ? `, ${group.warm.length} stopped in the warm pool` : '';
    return {
      description: `auto scaling group ${group.name} ${checks.map(([d]) => d).join(', ')}`,
      passed: checks.every(([, ok]) => ok),
      actual: `desired ${group.desired}, ${group.instances.length} in service${warm}`,
    };
  }
  if ('asgPolicy' in expectation) {
    const policy = twin.scaling.groups
      .get(expectation.asgPolicy.group)
      ?.policies.get(expectation.asgPolicy.name);
    const what = `policy ${expectation.asgPolicy.group}/${expectation.asgPolicy.name}`;
    if (policy?.type !== 'TargetTrackingScaling')
      return { description: `${what} exists`, passed: false, actual: 'missing' };
    const checks: [string, boolean][] = [];
    if (expectation.targetValue !== undefined) {
      checks.push([`target ${expectation.targetValue}`, policy.targetValue === expectation.targetValue]);
    }
    if (expectation.scaleInEnabled !== undefined) {
      checks.push([
        `scale-in ${expectation.scaleInEnabled ? 'on' : 'off'}`,
        !policy.disableScaleIn === expectation.scaleInEnabled,
      ]);
    }
    return {
      description: `${what} ${checks.map(([d]) => d).join(', ')}`,
      passed: checks.every(([, ok]) => ok),
      actual: `target ${policy.targetValue}, scale-in ${policy.disableScaleIn ? 'off' : 'on'}`,
    };
  }
  if ('lifecycleCompletions' in expectation) {
    const want = expectation.lifecycleCompletions;
    const found = twin.lifecycle.completions.filter(
      (c) =>
        (!want.group || c.groupName === want.group) &&
        (!want.transition || c.transition === want.transition) &&
        (!want.result || c.result === want.result) &&
        (!want.by || c.by === want.by) &&
        (want.stillServing === undefined ||
          (c.transition === 'terminate' && c.stillServing === want.stillServing)) &&
        (!want.token || c.token === want.token),
    );
    return {
      description: `${describeCount(expectation)} lifecycle completion(s) ${JSON.stringify(want)}`,
      passed: countMatches(expectation, found.length),
      actual: String(found.length),
    };
  }
  if ('timeline' in expectation) {
    const lines = twin.timeline.entries.filter(
      (e) =>
        e.kind !== 'expect' &&
        (!expectation.kind || e.kind === expectation.kind) &&
        e.text.includes(expectation.timeline),
    );
    return {
      description: `${describeCount(expectation)} timeline line(s)${expectation.kind ? ` (${expectation.kind})` : ''} with "${expectation.timeline}"`,
      passed: countMatches(expectation, lines.length),
      actual: String(lines.length),
    };
  }
  if ('alarm' in expectation) {
    const state = twin.cloudWatch.describe(expectation.alarm)?.state ?? 'missing';
    return {
      description: `alarm ${expectation.alarm} is ${expectation.state}`,
      passed: state === expectation.state,
      actual: state,
    };
  }
  if ('weights' in expectation) {
    const { route, canary } = expectation.weights;
    const share = (weights: Record<string, number>) => {
      const total = Object.values(weights).reduce((a, b) => a + b, 0);
      return total === 0 ? 0 : Math.round((100 * (weights[canary] ?? 0)) / total);
    };
    const writes = twin.traffic.writesTo(route);
    const writer = expectation.weights.by ?? 'reflex';
    const sequence = writes.filter((w) => w.by === writer).map((w) => share(w.weights));
    const final = share(twin.traffic.weightsNow(route));
    const handEdits = writes.filter((w) => w.by === 'person').length;
    // Seconds after the start of the reflexes' writes within the window (none wanted).
    const start = twin.scheduler.start.getTime();
    const [from, to] = expectation.stillBetween ?? [0, -1];
    const writtenBetween = writes
      .filter((w) => w.by === 'reflex')
      .map((w) => (w.at.getTime() - start) / 1000)
      .filter((seconds) => seconds >= from && seconds <= to);
    const wanted = {
      ...(expectation.sequence ? { sequence: expectation.sequence } : {}),
      ...(expectation.final !== undefined ? { final: expectation.final } : {}),
      ...(expectation.handEdits !== undefined ? { handEdits: expectation.handEdits } : {}),
      ...(expectation.stillBetween ? { writtenBetween: [] } : {}),
    };
    const actual = {
      sequence,
      final,
      handEdits,
      ...(expectation.stillBetween ? { writtenBetween } : {}),
    };
    const passed = Object.entries(wanted).every(
      ([key, value]) => JSON.stringify(actual[key as keyof typeof actual]) === JSON.stringify(value),
    );
    return {
      description: `${canary} on route ${route}: ${JSON.stringify(wanted)}`,
      passed,
      actual: JSON.stringify(actual),
    };
  }
  if ('stableWithin' in expectation) {
    const { route, canary, afterAlarm } = expectation.stableWithin;
    const alarmAt = twin.timeline.entries
      .map(
        (e) =>
          e.data?.event as
            | { time?: string; detail?: { alarmName?: string; state?: { value?: string } } }
            | undefined,
      )
      .find(
        (event) => event?.detail?.alarmName === afterAlarm && event.detail.state?.value === 'ALARM',
      )?.time;
    const restore = alarmAt
      ? twin.traffic
          .writesTo(route)
          .find((w) => w.at.getTime() >= Date.parse(alarmAt) && (w.weights[canary] ?? 0) === 0)
      : undefined;
    const seconds = alarmAt && restore ? (restore.at.getTime() - Date.parse(alarmAt)) / 1000 : undefined;
    return {
      description: `route ${route} all on stable within ${expectation.seconds}s of ${afterAlarm} going to ALARM`,
      passed: seconds !== undefined && seconds <= expectation.seconds,
      actual: alarmAt ? (seconds === undefined ? 'never restored' : `${seconds}s`) : 'alarm never fired',
    };
  }
  if ('nativeDeployment' in expectation) {
    const { cluster, service } = expectation.nativeDeployment;
    const d = twin.nativeDeployments.deployments.find(
      (x) => x.service.cluster === cluster && x.service.name === service,
    );
    const reason = d?.statusReason ?? '';
    return {
      description: `native deployment of ${service} ${expectation.status}${expectation.reason ? ` (${expectation.reason})` : ''}`,
      passed: d?.status === expectation.status && reason.includes(expectation.reason ?? ''),
      actual: d ? `${d.status}${reason ? ` (${reason})` : ''}` : 'none',
    };
  }
  if ('badRequests' in expectation) {
    const { route, version } = expectation.badRequests;
    const metrics = twin.traffic.versionMetrics(route, version);
    const served = twin.traffic
      .datapoints(metrics.namespace, metrics.errors, metrics.dimensions)
      .reduce((sum, point) => sum + point.value, 0);
    return {
      description: `${describeCount(expectation)} 5xx answer(s) served by ${version} through ${route}`,
      passed: countMatches(expectation, served),
      actual: String(served),
    };
  }
  if ('rollout' in expectation) {
    const run = twin.rolloutRun(expectation.rollout);
    const passed =
      run?.status === expectation.status &&
      (expectation.error === undefined || run.error === expectation.error);
    return {
      description: `rollout ${expectation.rollout} ${expectation.status}${expectation.error ? ` (${expectation.error})` : ''}`,
      passed,
      actual: run ? `${run.status}${run.error ? ` (${run.error})` : ''}` : 'never started',
    };
  }
  return {
    description: `${describeCount(expectation)} capacity shortfall report(s)`,
    passed: countMatches(expectation, twin.recorders.shortfalls.length),
    actual: String(twin.recorders.shortfalls.length),
  };
}

/**
 * The task recycler's AWS reads (its own invocations' calls; rechecks and parking are writes) and the
 * events EventBridge delivered to its queue through its rules: what a storm costs per event.
 */
export function recyclerReads(
  timeline: readonly TimelineEntry[],
  apiCalls: readonly ApiCall[],
): { reads: number; events: number } {
  const rules = taskRecyclerWiring.rules.map((rule) => ` -> ${rule.name}`);
  const events = timeline.filter(
    (e) => e.kind === 'event' && rules.some((rule) => e.text.endsWith(rule)),
  ).length;
  const reads = apiCalls.filter(
    (c) => !c.write && c.by?.split(':')[0] === taskRecyclerWiring.functionName,
  ).length;
  return { reads, events };
}
