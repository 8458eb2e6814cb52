// The twin's copy of what serverless.yml deploys for the task recycler: which rule feeds which queue,
// the queue's redrive settings, the batch size and the sweep's rate. test/infra checks this table
// against the packaged CloudFormation template, so the twin cannot drift from what AWS would run.
import { repoFile } from '#local/repoRoot';

export const taskRecyclerWiring = {
  functionName: 'taskRecycler',
  sweepFunctionName: 'taskRecyclerSweep',
  /** Where EventBridge's events and the delayed rechecks land (a standard queue: it takes a delay). */
  queue: 'task-recycler-buffer',
  /** The buffer's consumer: it sends each message on, in its task group's message group. */
  routerFunctionName: 'taskRecyclerRouter',
  /** The recycler's own queue: SQS keeps one batch of a task group in flight, and runs groups side by side. */
  taskGroupQueue: 'task-recycler-groups.fifo',
  /** The recycler's event source's MaximumConcurrency, and its reserved concurrency: batches at once. */
  maximumConcurrency: 20,
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 10,
  batchSize: 10,
  sweepRateSeconds: 60,
  rules: [
    { name: 'TaskRecyclerTaskStopped', patternFile: 'events/patterns/task-recycler-task-stopped.json' },
    {
      name: 'TaskRecyclerPlacementFailure',
      patternFile: 'events/patterns/task-recycler-placement-failure.json',
    },
  ],
} as const;

/**
 * The twin's copy of the alarm reactor's deployment: EventBridge invokes the function directly, for
 * alarm events and for the every-minute sweep alike.
 */
export const alarmReactorWiring = {
  functionName: 'alarmReactor',
  /** One actor on the scaling knobs at a time (serverless.yml's reservedConcurrency). */
  reservedConcurrency: 1,
  /** Lambda's asynchronous invocation retries, before the on-failure destination. */
  retryAttempts: 2,
  sweepRateSeconds: 60,
  rule: {
    name: 'AlarmReactorAlarmStateChange',
    patternFile: 'events/patterns/alarm-reactor-alarm-state-change.json',
  },
} as const;

/** The twin's copy of the instance lifecycle reflex: the intake function and the workflow's step. */
export const lifecycleWiring = {
  intakeFunctionName: 'lifecycleHook',
  stepFunctionName: 'instanceLifecycleStep',
  retryAttempts: 2,
  stateMachine: 'instance-lifecycle',
  definitionFile: 'infra/stateMachines/instanceLifecycle.asl.json',
  /** The ASL's `${...}` placeholder for the step function's ARN (DefinitionSubstitutions when packaged). */
  stepArnPlaceholder: 'InstanceLifecycleStepFunctionArn',
  rule: { name: 'LifecycleHookAction', patternFile: 'events/patterns/lifecycle-hook-action.json' },
  /** The notification form's queue (LifecycleNotificationQueue), read by the intake. */
  notificationQueue: 'lifecycle-notifications',
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  batchSize: 10,
} as const;

/**
 * The twin's copy of the rollout reflex: the workflow (packaged as `${service}-${stage}-rollout`; the
 * safety net's rule matches that suffix), its one Lambda step, and the safety net EventBridge invokes when
 * a rollout execution ends FAILED, ABORTED or TIMED_OUT.
 */
export const rolloutWiring = {
  stepFunctionName: 'rolloutStep',
  safetyNetFunctionName: 'rolloutSafetyNet',
  /** Lambda's asynchronous invocation retries for the safety net, before its on-failure destination. */
  retryAttempts: 2,
  stateMachine: 'rollout',
  twinStateMachineName: 'ecs-reflex-twin-rollout',
  definitionFile: 'infra/stateMachines/rollout.asl.json',
  /** The ASL's `${...}` placeholder for the step function's ARN (DefinitionSubstitutions when packaged). */
  stepArnPlaceholder: 'RolloutStepFunctionArn',
  safetyNetRule: { name: 'RolloutSafetyNet', patternFile: 'events/patterns/rollout-safety-net.json' },
} as const;

/** The twin's copy of the deployment hook: ECS invokes it synchronously, by the ARN a service's hook names. */
export const deploymentHookWiring = { functionName: 'deploymentHook' } as const;

/** The comma lists the ops functions' environment takes from serverless.yml, read once per process. */
const listedInStack = new Map<string, string[]>();

/** A comma list serverless.yml gives the ops functions, read from it rather than copied. */
function listedInServerlessYml(variable: 'DEAD_LETTER_QUEUES' | 'ACTION_LOG_GROUPS'): string[] {
  let names = listedInStack.get(variable);
  if (!names) {
    // Every twin of a test file or a bench run is built from the same files.
    const listed = new RegExp(`\\n\\s+${variable}: (\\S+)\\n`).exec(repoFile('serverless.yml'));
    if (!listed) throw new Error(`serverless.yml lists no ${variable}`);
    names = listed[1]!.split(',');
    listedInStack.set(variable, names);
  }
  return [...names];
}

/**
 * The stack's dead-letter queues: the names serverless.yml gives the ops API's DEAD_LETTER_QUEUES, in its
 * order (each queue's QueueName without the `${self:service}-${sls:stage}-` prefix, which the package test
 * holds to infra/*.yml).
 */
export const deadLetterQueueNames = (): string[] => listedInServerlessYml('DEAD_LETTER_QUEUES');

/**
 * The functions whose log groups the ops API reads for the action history: ACTION_LOG_GROUPS, as
 * serverless.yml gives it (the package test holds it to the functions that journal).
 */
export const actionLogFunctions = (): string[] => listedInServerlessYml('ACTION_LOG_GROUPS');

let timeouts: { provider: number; functions: Map<string, number> } | undefined;

/**
 * A function's timeout in seconds as serverless.yml deploys it (its own, or the provider's): the time
 * the twin's Lambda gives an invocation, on the virtual clock. A function serverless.yml does not deploy
 * (a scenario's traffic check) gets the provider's.
 */
export function functionTimeoutSeconds(functionName: string): number {
  timeouts ??= readFunctionTimeouts();
  return timeouts.functions.get(functionName) ?? timeouts.provider;
}

function readFunctionTimeouts(): { provider: number; functions: Map<string, number> } {
  const yml = repoFile('serverless.yml');
  const provider = /\nprovider:\n(?: {2}.*\n|\n)*? {2}timeout: (\d+)\n/.exec(yml);
  const functions = /\nfunctions:\n((?: {2}.*\n|\n)*)/.exec(yml);
  if (!provider || !functions) throw new Error('serverless.yml has no provider timeout or no functions');
  const own = [...`\n${functions[1]}`.matchAll(/\n {2}(\w+):\n(?: {4}.*\n|\n)*? {4}timeout: (\d+)\n/g)];
  return {
    provider: Number(provider[1]),
    functions: new Map(own.map(([, name, seconds]) => [name!, Number(seconds)])),
  };
}
