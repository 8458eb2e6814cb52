// Builders for domain data in tests: real sample events turned into the domain's Task, or a plain task
// with only the fields a test cares about changed.
import type { Service, TargetGroupHealth, Task } from '#domain/model';
import { loadSample } from '#events/samples';

interface SampleTaskDetail {
  clusterArn: string;
  taskArn: string;
  group: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  version: number;
  createdAt: string;
  startedAt?: string;
  stoppedAt?: string;
  stopCode?: string;
  stoppedReason?: string;
  containers: { name: string; exitCode?: number; reason?: string }[];
}

export function taskFromSample(name: string, changes: Partial<Task> = {}): Task {
  const detail = (loadSample(name) as { detail: SampleTaskDetail }).detail;
  return {
    taskArn: detail.taskArn,
    clusterArn: detail.clusterArn,
    group: detail.group,
    taskDefinitionArn: detail.taskDefinitionArn,
    lastStatus: detail.lastStatus,
    desiredStatus: detail.desiredStatus,
    version: detail.version,
    createdAt: new Date(detail.createdAt),
    startedAt: detail.startedAt ? new Date(detail.startedAt) : undefined,
    stoppedAt: detail.stoppedAt ? new Date(detail.stoppedAt) : undefined,
    stopCode: detail.stopCode,
    stoppedReason: detail.stoppedReason,
    containers: detail.containers.map((c) => ({ name: c.name, exitCode: c.exitCode, reason: c.reason })),
    tags: {},
    ...changes,
  };
}

let counter = 0;

export function aTask(changes: Partial<Task> = {}): Task {
  counter += 1;
  const id = counter.toString(16).padStart(32, '0');
  return {
    taskArn: `arn:aws:ecs:eu-west-1:111122223333:task/prod/${id}`,
    clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
    group: 'family:report',
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    version: 2,
    launchType: 'EC2',
    createdAt: new Date('2026-11-02T09:00:00Z'),
    startedAt: new Date('2026-11-02T09:00:15Z'),
    containers: [{ name: 'app' }],
    tags: {},
    ...changes,
  };
}

export function aStoppedTask(stoppedAt: Date, changes: Partial<Task> = {}): Task {
  return aTask({
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stoppedAt,
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'app', exitCode: 1 }],
    ...changes,
  });
}

export function aService(changes: Partial<Service> = {}): Service {
  return {
    serviceName: 'web',
    serviceArn: 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web',
    clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/web:2',
    desiredCount: 3,
    runningCount: 3,
    pendingCount: 0,
    circuitBreaker: false,
    deployments: [
      {
        id: 'ecs-svc/1111111111111111111',
        status: 'PRIMARY',
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/web:2',
        rolloutState: 'COMPLETED',
        runningCount: 3,
        desiredCount: 3,
      },
    ],
    targetGroupArns: [],
    tags: {},
    ...changes,
  };
}

export function targetGroup(arn: string, targets: TargetGroupHealth['targets']): TargetGroupHealth {
  return { targetGroupArn: arn, targets };
}
