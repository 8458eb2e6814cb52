// The fewest AWS calls each action of each reflex needs, and why each one is needed: written once, here.
// docs/design.md carries the same table, rendered by `renderBudgetTable` (a test compares the two, and
// `npx tsx bench/callBudgets.ts --write` rewrites the doc's copy), and `npm run bench` checks every action
// it measures against it and exits non-zero when one makes a call its row does not allow.
//
// A read that confirms a claim before a destructive write is part of the minimum: a reflex acts only on
// what it owns, after AWS confirms it. What the minimum leaves out is a call whose answer is already in
// hand from an earlier call of the same invocation (a route read again for its spec, an ARN looked up
// again, tags read apart from the description that carries them).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BudgetCall {
  api: string;
  /** Another API that serves the same purpose on some routes (counted as this one). */
  or?: string;
  why: string;
  /** Made only when this holds (allowed, not required). */
  when?: string;
  /** Made once per one of these (any number of times). */
  each?: string;
}

/** Calls several actions begin with (a reflex's look), named once in the table. */
export interface SharedCalls {
  name: string;
  calls: BudgetCall[];
}

export interface CallBudget {
  reflex:
    | 'task recycler'
    | 'instance lifecycle'
    | 'alarm reactor'
    | 'rollouts'
    | 'deployment hook'
    | 'ops API';
  action: string;
  /** What the action does first, as other actions of its reflex do. */
  after?: SharedCalls;
  /** The action's own calls, after `after`'s. */
  calls: BudgetCall[];
  /** Why `npm run bench` does not hold this action to its row yet; absent when it does. */
  notAsserted?: string;
}

// --- rollouts, once per router --------------------------------------------------------------------------

interface RouterApis {
  name: string;
  routeRead: string;
  /** The route read of a listener's default action, where it differs from a rule's. */
  routeReadOr?: string;
  ownerRead: string;
  routeWrite: string;
  /** The route write of a listener's default action (a default rule too), where it differs. */
  routeWriteOr?: string;
  tag: string;
  untag: string;
}

export const ROUTER_APIS: RouterApis[] = [
  {
    name: 'ALB',
    routeRead: 'DescribeRules',
    ownerRead: 'DescribeTags',
    routeWrite: 'ModifyRule',
    tag: 'AddTags',
    untag: 'RemoveTags',
  },
  {
    name: 'App Mesh',
    routeRead: 'DescribeRoute',
    ownerRead: 'ListTagsForResource',
    routeWrite: 'UpdateRoute',
    tag: 'TagResource',
    untag: 'UntagResource',
  },
  {
    name: 'VPC Lattice',
    routeRead: 'GetRule',
    routeReadOr: 'GetListener',
    ownerRead: 'ListTagsForResource',
    routeWrite: 'UpdateRule',
    routeWriteOr: 'UpdateListener',
    tag: 'TagResource',
    untag: 'UntagResource',
  },
];

function rolloutBudgets(r: RouterApis): CallBudget[] {
  const routeRead = { api: r.routeRead, ...(r.routeReadOr ? { or: r.routeReadOr } : {}) };
  const routeWrite = { api: r.routeWrite, ...(r.routeWriteOr ? { or: r.routeWriteOr } : {}) };
  const read: BudgetCall[] = [
    {
      ...routeRead,
      why: 'the route now: its weights for the hand-edit check, and the spec the write sends back (the write reuses this answer)',
    },
    {
      api: r.ownerRead,
      why: "its owner and request tags: is the route still this run's, did a person ask for something",
    },
  ];
  const controllers: BudgetCall = {
    api: 'DescribeServices',
    why: 'who deploys the declared services now (another controller owns a service mid native deployment)',
    each: 'declared service',
  };
  const dropRequest: BudgetCall = {
    api: r.untag,
    why: "clears a person's request as it is acted on",
    when: 'a request mark is on the route',
  };
  const readBack: BudgetCall = {
    ...routeRead,
    why: 'VerifyWeight: the weights read back after the write',
  };
  const release: BudgetCall[] = [
    { api: r.untag, why: 'releases the route: owner and request tags in one call' },
    { api: 'DeleteItem', why: "releases the claim (a conditional delete: never another run's)" },
  ];
  const at = (action: string) => `${action} (${r.name})`;
  return [
    {
      reflex: 'rollouts',
      action: at('prepare'),
      calls: [
        ...read,
        { api: 'GetItem', why: "the claim's holder: an ended holder is replaced only as it was read" },
        { api: 'PutItem', why: 'the claim: a conditional put, so of two starts exactly one wins' },
        {
          api: r.tag,
          why: 'the owner tag every later step, the ops API and the safety net read with the route',
        },
        {
          api: 'DescribeExecution',
          why: 'whether the holder or owner found still runs',
          each: 'other holder or owner found',
        },
        controllers,
        {
          api: 'DescribeAlarms',
          why: 'no rollout starts under a firing guard alarm',
          when: 'guard alarms are named',
        },
        { ...dropRequest, why: "clears a request left by an earlier run before this run's tag goes on" },
        { api: 'Publish', why: 'people are told the rollout started, and how to follow or abort it' },
      ],
    },
    {
      reflex: 'rollouts',
      action: at('shift'),
      calls: [
        ...read,
        { ...routeWrite, why: "SetWeight: the step's weights, the rest of the route as read" },
        controllers,
        dropRequest,
      ],
    },
    { reflex: 'rollouts', action: at('verify'), calls: [readBack] },
    {
      reflex: 'rollouts',
      action: at('promote'),
      calls: [
        ...read,
        { ...routeWrite, why: '100 % canary, the rest of the route as read' },
        readBack,
        ...release,
        { api: 'Publish', why: 'people are told the new version has all the traffic' },
        controllers,
        {
          api: 'GetItem',
          why: "the claim's holder: a retry after a failed release finds the route untagged and finishes the release",
          when: 'the route has no owner tag',
        },
      ],
    },
    {
      reflex: 'rollouts',
      action: at('rollback'),
      calls: [
        ...read,
        { ...routeWrite, why: '100 % stable', when: 'the route is not stable already' },
        readBack,
        { api: 'Publish', why: 'a person is told', when: 'the run rolled back (not a repeat)' },
        ...release,
        {
          ...controllers,
          why: 'scales the canary down only while no other controller owns it',
          when: 'rollback.scaleDownCanary',
        },
        { api: 'UpdateService', why: 'the canary to 0', when: 'rollback.scaleDownCanary' },
      ],
    },
    {
      reflex: 'rollouts',
      action: at('abort on a guard alarm'),
      calls: [
        { api: 'ListExecutions', why: 'the running rollouts' },
        {
          api: 'DescribeExecution',
          why: "each one's request: its route and guard alarms",
          each: 'running rollout',
        },
        { api: 'DescribeAlarms', why: "the alarm's state now: a late ALARM after OK aborts nothing" },
        { api: 'StopExecution', why: 'no later step of the run shifts traffic again' },
        ...read,
        {
          api: r.tag,
          why: 'the aborted mark, which a step of the run still going stands down on',
          when: 'the run owns the route',
        },
        {
          ...routeWrite,
          why: '100 % stable, from the same read',
          when: 'the route is not stable already',
        },
        readBack,
        { api: 'Publish', why: 'a person is told', when: 'the run rolled back' },
      ],
    },
  ];
}

// --- every action -----------------------------------------------------------------------------------------

const RECYCLER_NOT_ASSERTED =
  'the look lists running and stopped tasks apart and describes each list apart (DescribeTasks and ' +
  'DescribeContainerInstances twice where once holds 100 of each): the port lists one status at a time';

const recyclerLook: SharedCalls = {
  name: "the recycler's look",
  calls: [
    {
      api: 'DescribeServices',
      why: 'the service: desired count, deployments, its controller (level-triggered)',
      when: 'a service group',
    },
    { api: 'ListTasks', why: "the group's running tasks" },
    { api: 'ListTasks', why: 'its stopped tasks: the crash history and restart lineage (`startedBy`)' },
    {
      api: 'DescribeTasks',
      why: 'both lists at once (100 a call): status, stop codes, tags',
      when: 'tasks are listed',
    },
    {
      api: 'DescribeContainerInstances',
      why: 'the instances of bridge and host tasks, which are targets as instance and port',
      when: 'a task runs on EC2',
    },
    {
      api: 'DescribeTargetHealth',
      why: 'how the load balancer sees the tasks',
      each: 'watched target group',
    },
  ],
};

const lifecycleLook: SharedCalls = {
  name: 'the lifecycle look',
  calls: [
    {
      api: 'RecordLifecycleActionHeartbeat',
      why: 'keeps the hook from timing out, sent first',
      when: 'a heartbeat is due (every half heartbeat timeout)',
    },
    { api: 'ListContainerInstances', why: 'the container instance of the EC2 instance (level-triggered)' },
    { api: 'DescribeContainerInstances', why: 'its status and agent', when: 'it is registered' },
    { api: 'DescribeTargetHealth', why: 'its targets', each: 'configured target group' },
    { api: 'ListTasks', why: 'tasks still running on it', when: 'it is registered' },
    {
      api: 'ListTasks',
      why: 'tasks stopping on it (desired STOPPED, still holding connections)',
      when: 'it is registered',
    },
    { api: 'DescribeTasks', why: 'which of them have not stopped yet', when: 'tasks are listed' },
  ],
};

const firstLook: BudgetCall[] = [
  { api: 'DescribeAutoScalingGroups', why: 'the group exists (a missing group is a plain answer here)' },
  { api: 'DescribeLifecycleHooks', why: "the hook's heartbeat timeout and default result" },
  { api: 'DescribeCapacityProviders', why: "whether ECS managed draining owns the instance's draining" },
  {
    api: 'DescribeAutoScalingInstances',
    why: "the claim confirmed: the instance waits in that group in the transition's state",
  },
  {
    api: 'DescribeWarmPool',
    why: "the same, for an instance in the group's warm pool (the listing above leaves it out)",
    each: 'page of the warm pool, when the instance is not in the group',
  },
  {
    api: 'RecordLifecycleActionHeartbeat',
    why: "the claim confirmed: Auto Scaling accepts the message's token (and it is the first heartbeat)",
  },
  {
    api: 'Publish',
    why: 'a person is told of a refused claim, and nothing is written',
    when: 'the claim is refused',
  },
];

interface KnobApis {
  name: string;
  look: BudgetCall[];
  write: string;
  tag: string;
  notAsserted?: string;
}

const KNOBS: KnobApis[] = [
  {
    name: 'group capacity',
    look: [
      {
        api: 'DescribeAutoScalingGroups',
        why: "the desired capacity with its min and max, and the reactor's memory in the group's tags, in one answer",
      },
    ],
    write: 'SetDesiredCapacity',
    tag: 'CreateOrUpdateTags',
  },
  {
    name: 'service count',
    look: [
      {
        api: 'DescribeScalableTargets',
        why: "a service under Application Auto Scaling has its count set by it: not the reactor's knob",
      },
      {
        api: 'DescribeServices',
        why: "the desired count and the reactor's memory in its tags (include TAGS), in one answer",
      },
    ],
    write: 'UpdateService',
    tag: 'TagResource',
  },
  {
    name: 'group policy',
    look: [
      { api: 'DescribePolicies', why: "the policy's setting (a policy does not carry the group's tags)" },
      { api: 'DescribeTags', why: "the reactor's memory on the group" },
    ],
    write: 'PutScalingPolicy',
    tag: 'CreateOrUpdateTags',
  },
];

/** A knob that moved, or went back, is news to the people who run the service. */
const told: BudgetCall = {
  api: 'Publish',
  why: 'people are told the knob moved, why, and when it goes back',
};

function alarmBudgets(k: KnobApis): CallBudget[] {
  const at = (action: string) => `${action} (${k.name})`;
  const look = [alarm(), ...k.look];
  const writes = k.notAsserted ? { notAsserted: k.notAsserted } : {};
  return [
    { reflex: 'alarm reactor', action: at('look, no change'), calls: [...look, guardCheck] },
    {
      reflex: 'alarm reactor',
      action: at('apply'),
      calls: [...look, remember(k.tag), { api: k.write, why: 'the change' }, done(k.tag), told, guardCheck],
      ...writes,
    },
    {
      reflex: 'alarm reactor',
      action: at('restore'),
      calls: [
        ...look,
        { api: k.write, why: 'the value from before, only if the knob still holds what was set' },
        forget(k.tag),
        told,
        guardCheck,
      ],
      ...writes,
    },
    {
      reflex: 'alarm reactor',
      action: at('forget (a person moved the knob)'),
      calls: [...look, forget(k.tag), guardCheck],
    },
  ];
}

const alarm = (api = 'DescribeAlarms'): BudgetCall => ({
  api,
  why: "the alarm's state now: the event only names it (level-triggered)",
});
const guardCheck: BudgetCall = {
  api: 'ListExecutions',
  why: 'running rollouts, which an ALARM of their guard alarm aborts',
  when: 'rollouts run in the stack and the event says ALARM',
};
const remember = (api: string): BudgetCall => ({
  api,
  why: 'the change remembered as pending before it is made (a failed write is finished, never applied twice)',
});
const done = (api: string): BudgetCall => ({
  api,
  why: 'the record marked done: a person moving the knob back wins',
});
const forget = (api: string): BudgetCall => ({
  api,
  why: 'the record forgotten (emptied) and the last change set, in one write',
});

export const CALL_BUDGETS: CallBudget[] = [
  {
    reflex: 'task recycler',
    action: 'look, no action',
    after: recyclerLook,
    calls: [],
    notAsserted: RECYCLER_NOT_ASSERTED,
  },
  {
    reflex: 'task recycler',
    action: 'restart',
    after: recyclerLook,
    calls: [{ api: 'RunTask', why: 'the copy, with a client token (idempotent)' }],
    notAsserted: RECYCLER_NOT_ASSERTED,
  },
  {
    reflex: 'task recycler',
    action: 'recheck later',
    after: recyclerLook,
    calls: [{ api: 'SendMessage', why: 'a delayed message on its own queue: waits are messages' }],
    notAsserted: RECYCLER_NOT_ASSERTED,
  },
  {
    reflex: 'task recycler',
    action: 'mark unhealthy',
    after: recyclerLook,
    calls: [{ api: 'TagResource', why: '"unhealthy since" on the running task: the world is the memory' }],
    notAsserted: RECYCLER_NOT_ASSERTED,
  },
  {
    reflex: 'task recycler',
    action: 'stop unhealthy',
    after: recyclerLook,
    calls: [
      { api: 'DeregisterTargets', why: 'out of the load balancer first', each: 'target group it is in' },
      { api: 'StopTask', why: 'then stopped' },
    ],
    notAsserted: RECYCLER_NOT_ASSERTED,
  },
  {
    reflex: 'task recycler',
    action: 'break crash loop',
    after: recyclerLook,
    calls: [
      { api: 'ListServiceDeployments', why: 'the revision that last ran stably' },
      { api: 'UpdateService', why: 'the rollback' },
      { api: 'TagResource', why: '"crash loop handled" on the service, after the rollback' },
      { api: 'Publish', why: 'a person is told' },
    ],
    notAsserted: RECYCLER_NOT_ASSERTED,
  },
  {
    reflex: 'task recycler',
    action: 'route to task groups',
    calls: [
      {
        api: 'SendMessageBatch',
        why: "the router's batch on to the FIFO queue, each message in its task group's message group (it reads nothing)",
        each: 'ten messages, or 256 KiB of them',
      },
    ],
  },
  {
    reflex: 'task recycler',
    action: 'park bad input',
    calls: [{ api: 'SendMessage', why: 'the input and its reason on the dead-letter queue; nothing else' }],
    notAsserted: "measured in section 3 (the recycler's own fixture)",
  },
  {
    reflex: 'instance lifecycle',
    action: 'intake',
    calls: [{ api: 'StartExecution', why: 'one run per lifecycle action (named by its token)' }],
  },
  {
    reflex: 'instance lifecycle',
    action: 'confirm the claim (first look)',
    calls: firstLook,
  },
  { reflex: 'instance lifecycle', action: 'look, wait', after: lifecycleLook, calls: [] },
  {
    reflex: 'instance lifecycle',
    action: 'drain',
    after: lifecycleLook,
    calls: [{ api: 'UpdateContainerInstancesState', why: 'DRAINING: ECS moves the service tasks' }],
  },
  {
    reflex: 'instance lifecycle',
    action: 'deregister',
    after: lifecycleLook,
    calls: [{ api: 'DeregisterTargets', why: 'out of its target groups', each: 'target group' }],
  },
  {
    reflex: 'instance lifecycle',
    action: 'register',
    after: lifecycleLook,
    calls: [{ api: 'RegisterTargets', why: 'into its target groups', each: 'target group' }],
  },
  {
    reflex: 'instance lifecycle',
    action: 'stop standalone tasks',
    after: lifecycleLook,
    calls: [{ api: 'StopTask', why: 'tasks ECS does not move on a drain', each: 'standalone task' }],
  },
  {
    reflex: 'instance lifecycle',
    action: 'complete',
    after: lifecycleLook,
    calls: [{ api: 'CompleteLifecycleAction', why: 'CONTINUE (or ABANDON)' }],
  },
  {
    reflex: 'instance lifecycle',
    action: 'fail-safe',
    calls: [
      {
        api: 'DescribeAutoScalingInstances',
        why: 'the action is still pending (the fail-safe checks the claim too)',
      },
      {
        api: 'RecordLifecycleActionHeartbeat',
        why: 'the token, when no look confirmed it',
        when: 'unconfirmed',
      },
      {
        api: 'DescribeAutoScalingGroups',
        why: "the hook's group",
        when: 'its default result is not known yet',
      },
      { api: 'DescribeLifecycleHooks', why: 'the default result', when: 'not known yet' },
      { api: 'DescribeCapacityProviders', why: "read with the hook's settings", when: 'not known yet' },
      { api: 'CompleteLifecycleAction', why: 'the default result, before the hook times out' },
      { api: 'Publish', why: 'a person is told' },
    ],
  },
  {
    reflex: 'alarm reactor',
    action: 'event, no reaction',
    calls: [
      guardCheck,
      { api: 'DescribeExecution', why: "each one's request: its guard alarms", each: 'running rollout' },
    ],
  },
  {
    reflex: 'alarm reactor',
    action: 'look for guarded native deployments',
    calls: [
      {
        api: 'ListServiceDeployments',
        why: 'its unfinished deployments (PENDING, IN_PROGRESS, ROLLBACK_*)',
        each: 'service the deployment hook serves',
      },
      {
        api: 'DescribeServiceDeployments',
        why: "is it this stack's hook's, its status, and the hook's settings with their guard alarms",
        each: 'unfinished deployment',
      },
      {
        api: 'DescribeAlarms',
        why: "an event's alarm, when it guards one; at the sweep, the guard alarms of all of them together",
        each: '100 guard alarm names (the most AlarmNames takes)',
      },
      {
        api: 'StopServiceDeployment',
        why: 'ROLLBACK, of one IN_PROGRESS whose guard alarm is in ALARM now',
        each: 'deployment stopped',
      },
      {
        api: 'DescribeServiceDeployments',
        why: 'read back after the stop: ECS answers a stop of a rollback already under way with success, so who started it?',
        each: 'deployment stopped',
      },
      { api: 'Publish', why: 'people are told it was stopped and why', each: 'deployment stopped' },
    ],
  },
  ...KNOBS.flatMap(alarmBudgets),
  {
    reflex: 'alarm reactor',
    action: 'sweep, nothing in place',
    calls: [
      {
        api: 'DescribeTags',
        why: 'the memory of a reaction that names no alarm: has it a change in place to look after?',
        each: 'reaction by alarm prefix or tag on a group',
      },
      {
        api: 'DescribeServices',
        why: 'the same, on a service (include TAGS)',
        each: 'reaction by alarm prefix or tag on a service',
      },
    ],
  },
  ...ROUTER_APIS.flatMap(rolloutBudgets),
  {
    reflex: 'rollouts',
    action: 'analyse',
    calls: [
      {
        api: 'GetMetricData',
        why: 'every check of the run in one call',
        when: 'a published minute is there to read',
      },
    ],
  },
  { reflex: 'rollouts', action: 'gate', calls: [{ api: 'Publish', why: 'a person is told the run waits' }] },
  {
    reflex: 'rollouts',
    action: 'scale down',
    calls: [
      { api: 'DescribeServices', why: 'no other controller owns the service now' },
      { api: 'UpdateService', why: 'to 0' },
    ],
  },
  {
    reflex: 'deployment hook',
    action: 'answer a stage',
    calls: [
      {
        api: 'DescribeServiceDeployments',
        why: "the claim confirmed: ECS knows the deployment, it is the payload's service's, deploys the payload's revision and still runs hooks; its hookDetails carry the service's settings",
      },
      {
        api: 'DescribeServiceRevisions',
        why: "the claim confirmed: the green revision is the service's; the blue one in the same call, for the load balancers the analysis compares",
        when: 'the deployment is confirmed',
      },
    ],
  },
  {
    reflex: 'deployment hook',
    action: 'analyse a stage',
    calls: [
      {
        api: 'GetMetricData',
        why: 'every metric check of the stage in one call (green against blue); nothing while ECS rolls back',
        when: 'a published minute is there to read',
      },
      {
        api: 'DescribeAlarms',
        why: 'every alarm check and guard alarm of the stage in one call (AlarmNames takes 100)',
        when: 'the stage has alarm checks',
      },
      {
        api: 'DescribeTargetHealth',
        why: "the green revision's targets",
        each: 'target-health check',
      },
    ],
    notAsserted:
      'the analysis reads each alarm with a DescribeAlarms of its own (observeChecks, shared with rollouts) where one call names them all',
  },
  {
    reflex: 'deployment hook',
    action: 'gate a stage',
    calls: [
      {
        api: 'DescribeServices',
        why: "a person's answer at the gate, in the service's tags (include TAGS)",
      },
    ],
  },
  // GET /deployments and GET /deployments/{cluster}/{service} (layers/app/deploymentViews.ts). ECS keeps
  // no record of what a hook answered, so the minimum is ECS's facts per served service (one list, then
  // every deployment listed described in one call: DescribeServiceDeployments takes 20 ARNs and the view
  // shows at most that many) and two journal reads: the hook's answers and the people's gate answers, none
  // when no deployment is listed. A journal read is one FilterLogEvents per log group of a function that
  // journals the reflex read (the API takes one group a call): the hook's answers are in deploymentHook's
  // group, the gate answers in opsWrite's, so the two reads are two calls (ten each before the stack's list
  // said which function journals which reflex; FilterLogEvents allows 5 a second per account and Region).
  ...[
    { action: 'GET /deployments', each: 'served service' },
    { action: 'GET /deployments/{cluster}/{service}' },
  ].map(
    ({ action, each }): CallBudget => ({
      reflex: 'ops API',
      action,
      calls: [
        { api: 'ListServiceDeployments', why: "the service's recent deployments", ...(each ? { each } : {}) },
        {
          api: 'DescribeServiceDeployments',
          why: 'their status, stage, revisions and hook runs, all listed ones in one call',
          ...(each ? { each } : { when: 'the service has a deployment' }),
        },
        {
          api: 'FilterLogEvents',
          why: "the hook's answers, then the gate answers, since the oldest deployment shown",
          each: 'journal read: the one log group of the function that journals its reflex',
        },
      ],
    }),
  ),
  {
    reflex: 'ops API',
    action: 'read (GET)',
    calls: [{ api: "the route's reads", why: 'what it shows, read now; no write of any kind' }],
    notAsserted: 'not measured by the bench, but for GET /deployments (its rows above)',
  },
  {
    reflex: 'ops API',
    action: 'write',
    calls: [
      { api: 'PutItem', why: 'claims the Idempotency-Key (conditional): a retry gets the stored answer' },
      { api: "the route's reads", why: 'the claim confirmed (who owns the route or run) before the write' },
      {
        api: 'the write',
        why: 'the change itself (set weights: the route read above is the spec written back)',
      },
      { api: 'UpdateItem', why: 'stores the answer for retries' },
    ],
    notAsserted: 'not measured by the bench',
  },
];

// --- checking a measured invocation --------------------------------------------------------------------

export function budgetOf(action: string): CallBudget {
  const found = CALL_BUDGETS.find((b) => b.action === action);
  if (!found) throw new Error(`no call budget for ${action}`);
  return found;
}

export const allCalls = (budget: CallBudget): BudgetCall[] => [
  ...(budget.after?.calls ?? []),
  ...budget.calls,
];

/** The fewest calls: those made on every run of the action. */
export const minimumCalls = (budget: CallBudget): number =>
  allCalls(budget).filter((c) => !c.when && !c.each).length;

/**
 * The calls an invocation made beyond what its rows allow (an invocation may take two actions: a lifecycle
 * look that confirms the claim and drains): for each API, more calls than the rows have entries for it (an
 * entry made `each` allows any number). Empty when the invocation is within its budget.
 */
export interface Excess {
  api: string;
  made: number;
  allowed: number;
}

export function excessCalls(budgets: CallBudget[], apis: string[]): Excess[] {
  const excess: Excess[] = [];
  const rows = budgets.flatMap(allCalls);
  // A listener's GetListener counts as the rule's GetRule it stands for: one route read, either way.
  const keyOf = (api: string) => rows.find((c) => c.or === api)?.api ?? api;
  const made = new Map<string, string[]>();
  for (const api of apis) made.set(keyOf(api), [...(made.get(keyOf(api)) ?? []), api]);
  for (const [key, calls] of made) {
    const entries = rows.filter((c) => c.api === key);
    if (entries.some((c) => c.each)) continue;
    if (calls.length > entries.length)
      excess.push({ api: [...new Set(calls)].join('/'), made: calls.length, allowed: entries.length });
  }
  return excess;
}

export const describeExcess = (excess: Excess[]): string =>
  excess.map((e) => `${e.api} x${e.made} (allowed ${e.allowed})`).join(', ');

/** How many calls above the budget: the minimum for what the invocation did is its calls less these. */
export const excessCount = (excess: Excess[]): number => excess.reduce((n, e) => n + e.made - e.allowed, 0);

// --- the table in docs/design.md ------------------------------------------------------------------------

export const DOC_PATH = join(__dirname, '..', 'docs', 'design.md');
const START =
  '<!-- call-budgets:start (generated from bench/callBudgets.ts: npx tsx bench/callBudgets.ts --write) -->';
const END = '<!-- call-budgets:end -->';

export function renderBudgetTable(budgets: CallBudget[] = CALL_BUDGETS): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const describe = (calls: BudgetCall[]) =>
    calls
      .map((c) => {
        const condition = c.each ? ` (each ${c.each})` : c.when ? ` (when ${c.when})` : '';
        const api = c.or ? `\`${c.api}\` or \`${c.or}\`` : `\`${c.api}\``;
        return `${api}${condition}: ${c.why}`;
      })
      .join('; ');
  const named = new Set<string>();
  const rows = budgets.map((b) => {
    let calls = describe(b.calls);
    if (b.after) {
      const first = !named.has(b.after.name);
      named.add(b.after.name);
      const shared = first ? `${b.after.name}: ${describe(b.after.calls)}` : b.after.name;
      calls = calls ? `${shared}; then ${calls}` : shared;
    }
    const asserted = b.notAsserted ? `no: ${b.notAsserted}` : 'yes';
    return `| ${b.reflex} | ${b.action} | ${minimumCalls(b)} | ${cell(calls)} | ${cell(asserted)} |`;
  });
  return [
    START,
    '| reflex | action | minimum | the calls, and why each is needed | held to it by `npm run bench` |',
    '|---|---|---|---|---|',
    ...rows,
    END,
  ].join('\n');
}

/** The table as docs/design.md has it now, or undefined without the markers. */
export function documentedTable(doc = readFileSync(DOC_PATH, 'utf8')): string | undefined {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return doc.slice(start, end + END.length);
}

if (require.main === module && process.argv.includes('--write')) {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const current = documentedTable(doc);
  if (!current) throw new Error(`${DOC_PATH} has no call-budgets markers`);
  writeFileSync(DOC_PATH, doc.replace(current, renderBudgetTable()));
}
