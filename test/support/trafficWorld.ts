// A world with the twin's traffic and its App Mesh and ELBv2 as the adapters reach them: real SDK clients
// over the twin's models, the real routers over those, and the real metrics source over its CloudWatch.
import { AppMeshClient } from '@aws-sdk/client-app-mesh';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { albRouter } from '#adapters/aws/albRouter';
import { appMeshRouter } from '#adapters/aws/appMeshRouter';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import type { RouteRef } from '#domain/rolloutRoutes';
import { TwinCloudWatch } from '#local/twin/alarms';
import { appMeshModel } from '#local/twin/aws/appMesh';
import { TwinSendLayer } from '#local/twin/aws/client';
import { cloudWatchModel } from '#local/twin/aws/cloudWatch';
import { elbv2Model } from '#local/twin/aws/elbv2';
import { Faults } from '#local/twin/aws/faults';
import { VirtualScheduler } from '#local/twin/scheduler';
import { TwinTraffic } from '#local/twin/traffic';
import { World } from '#local/twin/world';

export const START = new Date('2026-11-02T09:00:00Z');
export const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

export function aWorld(targetGroups: string[] = ['web-blue', 'web-green']) {
  const clock = new VirtualScheduler(START);
  const notes: string[] = [];
  const world = new World(clock, { event: () => undefined, note: (text) => notes.push(text) }, 7);
  for (const name of targetGroups)
    world.addTargetGroup({ name, port: 8080, targetType: 'ip', deregistrationDelaySeconds: 30 });
  const traffic = new TwinTraffic(world, (text) => notes.push(text));
  const faults = new Faults(3);
  const aws = new TwinSendLayer({ clock, calls: world.apiCalls, faults });
  const elbv2 = aws.client(ElasticLoadBalancingV2Client, elbv2Model(world, traffic.loadBalancers));
  const appMesh = aws.client(AppMeshClient, appMeshModel(traffic.mesh));
  const routers = { appmesh: appMeshRouter(appMesh, { warn: () => undefined }), alb: albRouter(elbv2) };
  const cloudWatch = new TwinCloudWatch(
    world,
    () => undefined,
    () => undefined,
  );
  const metrics = cloudWatchMetrics(aws.client(CloudWatchClient, cloudWatchModel(cloudWatch, traffic)));
  const runFor = (seconds: number) => clock.runUntil(new Date(clock.now().getTime() + seconds * 1000));
  /** What the call gives, made inside the clock's run: SDK retries wait in virtual time. */
  const during = async <T>(call: () => Promise<T>, seconds = 60): Promise<T> => {
    let settled: Promise<{ value: T } | { error: unknown }> | undefined;
    // The scheduler awaits the call, running the SDK's backoff timers meanwhile.
    clock.after(0, 'call', async () => {
      settled = call().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await settled;
    });
    await runFor(seconds);
    const outcome = await settled!;
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };
  const writeCalls = () => world.apiCalls.filter((c) => c.write && !c.failed).map((c) => c.api);
  return {
    clock,
    world,
    traffic,
    faults,
    elbv2,
    appMesh,
    routers,
    metrics,
    runFor,
    during,
    writeCalls,
    notes,
  };
}

export type TrafficWorld = ReturnType<typeof aWorld>;

/** A mesh route `web` in mesh `prod` between virtual nodes web-v1 (stable) and web-v2 (canary). */
export function withMeshRoute(
  world: TrafficWorld,
  weights: [number, number] = [100, 0],
): Extract<RouteRef, { router: 'appmesh' }> {
  world.traffic.addMeshRoute({
    meshName: 'prod',
    virtualRouterName: 'web-router',
    routeName: 'web',
    protocol: 'http',
    targets: [
      { virtualNode: 'web-v1', weight: weights[0], port: 8080 },
      { virtualNode: 'web-v2', weight: weights[1], port: 8080 },
    ],
    match: { prefix: '/api', headers: [{ name: 'x-tenant', match: { exact: 'blue' } }] },
    retryPolicy: {
      maxRetries: 2,
      perRetryTimeout: { unit: 'ms', value: 500 },
      httpRetryEvents: ['server-error', 'gateway-error'],
    },
    timeout: { perRequest: { unit: 's', value: 15 }, idle: { unit: 's', value: 300 } },
    priority: 5,
  });
  return {
    router: 'appmesh',
    meshName: 'prod',
    virtualRouterName: 'web-router',
    routeName: 'web',
    stable: 'web-v1',
    canary: 'web-v2',
  };
}

/** An ALB rule `web` forwarding to web-blue (stable) and web-green (canary). */
export function withAlbRule(world: TrafficWorld, weights: [number, number] = [100, 0], name = 'web') {
  const info = world.traffic.addListenerRule({
    name,
    targetGroups: [
      { targetGroup: 'web-blue', weight: weights[0] },
      { targetGroup: 'web-green', weight: weights[1] },
    ],
    stickiness: { enabled: true, durationSeconds: 300 },
  });
  const ref: RouteRef = {
    router: 'alb',
    listenerArn: info.listenerArn!,
    ruleArn: info.ruleArn!,
    stable: world.world.targetGroup('web-blue').arn,
    canary: world.world.targetGroup('web-green').arn,
  };
  return { ref, info };
}
