// The ops API: one request in (already authenticated by API Gateway's IAM authorizer, or locally by the
// twin's SigV4 check), one answer out. The route table and its schemas are events/opsApi.ts; this file
// validates against them, makes writes safe to retry (Idempotency-Key), audits every write with the
// caller, and answers errors as RFC 9457 problem documents.
import { createHash } from 'node:crypto';
import type * as z from 'zod';
import { hookSettingsOf } from '#app/deploymentHook';
import { deploymentsView } from '#app/deploymentViews';
import { LIFECYCLE_WORKFLOW } from '#app/instanceLifecycle';
import {
  NO_REFLEX_SETTINGS,
  type ReflexSettings,
  type ReflexViewPorts,
  reflexesView,
} from '#app/reflexViews';
import {
  abortRollout,
  checkAllowed,
  isAbortedMark,
  pauseRollout,
  promoteRollout,
  ROLLOUT_WORKFLOW,
  type RolloutState,
  refuseIfControlledElsewhere,
  resumeRollout,
  stepReached,
  waitsAtGate,
} from '#app/rollout';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import {
  GATE_TAG_KEY,
  type GateAnswerSeen,
  gateAnswerFor,
  gateTagValue,
  HOOK_STAGES,
  type HookStage,
} from '#domain/deploymentHook';
import { routeKey, weightsFor } from '#domain/rolloutRoutes';
import { GATE_TIMEOUT_SECONDS } from '#domain/rolloutSchedule';
import type { HookService } from '#events/deploymentHook';
import { openApiDocument } from '#events/openapi';
import { type Access, MAX_BODY_BYTES, MAX_BODY_DEPTH, type OpsRoute, opsRoutes } from '#events/opsApi';
import { DUPLICATE_ISSUE, rolloutRequestOf } from '#events/rollout';
import type {
  ActionHistory,
  ActionJournal,
  ContainerInstances,
  GateAnswers,
  IdempotencyStore,
  InstanceFleet,
  JournalEntry,
  NativeDeployments,
  RolloutPorts,
  ServiceControl,
  ServiceOperations,
  WorkflowRuns,
  Workflows,
} from '#ports';
import { checkText } from '#runtime/boundedInput';
import { RolloutNotAllowedError } from '#runtime/errors';
import { issueInWords } from '#runtime/issueWords';

export const OPS_REFLEX = 'ops-api';

export interface OpsRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body: string | undefined;
  /** The caller as IAM authenticated it (user or role ARN); undefined when the request was not signed. */
  caller: string | undefined;
}

export interface OpsResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface OpsSettings {
  /** Routes the API may show, set by hand and start rollouts on, by name, with their services. */
  routes: DeclaredRoute[];
  /** Clusters the API shows and acts on. */
  clusters: string[];
  /** What this function serves: the read function GETs, the write function the rest. */
  serves: Access[];
  /** The services the deployment hook serves: the only ones whose gates the API answers. */
  hookServices?: HookService[];
  /** What GET /reflexes reads the other reflexes' state with; without it, nothing is configured. */
  reflexes?: ReflexSettings;
}

export interface OpsPorts extends Omit<ReflexViewPorts, 'lifecycleRuns'> {
  rollouts: RolloutPorts;
  /** Where every write is audited, with the caller. */
  journal: ActionJournal;
  workflows: Workflows;
  /** Reading a service; its tag carries a person's answer at the deployment hook's gate. */
  services: Pick<ServiceControl, 'describeService' | 'tagService'>;
  /** ECS native deployments: the deployment hook's gates, and GET /deployments. */
  nativeDeployments: NativeDeployments;
  serviceOperations: ServiceOperations;
  instances: Pick<ContainerInstances, 'describe' | 'drain'>;
  instanceFleet: InstanceFleet;
  /** The instance lifecycle workflow's runs (one per lifecycle action). */
  lifecycleRuns: Pick<WorkflowRuns, 'list' | 'describe'>;
  actions: ActionHistory;
  idempotency: IdempotencyStore;
  /** The first answer at each deployment-hook gate, recorded before the tag the hook reads. */
  gateAnswers: GateAnswers;
}

/** An answer other than success, with the fields at fault. Named, like every error here. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly errors?: { field: string; message: string }[],
    /** Extra response headers (Retry-After on a key still in flight). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notFound = (what: string) => new ProblemError(404, 'Not Found', `${what} does not exist`);
const conflict = (message: string) => new ProblemError(409, 'Conflict', message);

/** AWS errors a caller can act on, by name: anything else is a 500 whose detail stays in the log. */
const STATUS_BY_ERROR_NAME: Record<string, number> = {
  InvalidInputError: 400,
  WeightOutOfRangeError: 400,
  RolloutNotAllowedError: 403,
  RouteNotFoundError: 404,
  ServiceNotFoundException: 404,
  ClusterNotFoundException: 404,
  TargetGroupNotFoundException: 404,
  RouteBusyError: 409,
  ServiceControlledElsewhereError: 409,
  ThrottlingException: 429,
  TooManyRequestsException: 429,
  Throttling: 429,
};

export interface OpsContext {
  ports: OpsPorts;
  settings: OpsSettings;
  clock: { now(): Date };
  /** An error nobody expected: the caller gets a bare 500, this gets the detail. */
  onUnexpected?: (error: unknown) => void;
}

export async function handleOpsRequest(request: OpsRequest, context: OpsContext): Promise<OpsResponse> {
  const { ports, settings, clock } = context;
  const { journal } = ports;
  try {
    const { route, params } = matchRoute(request, settings);
    // API Gateway lets no unsigned request through; this is the second lock on the same door.
    if (!request.caller) throw new ProblemError(403, 'Forbidden', 'requests must be signed with AWS SigV4');
    if (route.access === 'write') requireJson(request);
    const input = validate(route, params, request);
    if (route.access === 'read') return json(route.status, await read(route, input, ports, settings, clock));
    return await idempotent(request, route, ports.idempotency, async () => {
      const outcome = await write(route, input, request.caller!, ports, settings, clock);
      journal.record({
        reflex: OPS_REFLEX,
        action: route.operationId,
        target: outcome.target,
        reason: `${request.caller}: ${outcome.reason}`,
        dryRun: outcome.body.dryRun === true,
        outcome: outcome.body.dryRun === true ? 'dry-run' : 'done',
        detail: { caller: request.caller, path: request.path },
      });
      return json(route.status, outcome.body);
    });
  } catch (error) {
    const answer = problem(error);
    if (answer.statusCode >= 500) context.onUnexpected?.(error);
    return answer;
  }
}

// --- routing and validation -----------------------------------------------------------------------

function matchRoute(
  request: OpsRequest,
  settings: OpsSettings,
): { route: OpsRoute; params: Record<string, string> } {
  const segments = request.path.replace(/\/+$/, '').split('/');
  for (const route of opsRoutes) {
    if (route.method !== request.method.toUpperCase() || !settings.serves.includes(route.access)) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part.startsWith('{')) {
        params[part.slice(1, -1)] = decodedSegment(segment);
        return segment.length > 0;
      }
      return part === segment;
    });
    if (matches) return { route, params };
  }
  throw new ProblemError(404, 'Not Found', `no route ${request.method} ${request.path}`);
}

const isRepeat = (issue: z.core.$ZodIssue) =>
  issue.code === 'custom' && (issue.params as { kind?: string } | undefined)?.kind === DUPLICATE_ISSUE;

/**
 * A write's body is JSON and says so: a form post or text/plain (what a browser sends cross-site without
 * asking first) is refused with 415 before anything is read. A write with no body needs no type.
 */
function requireJson(request: OpsRequest): void {
  const type = request.headers['content-type'];
  if (type === undefined && (request.body ?? '') === '') return;
  const [mediaType, ...parameters] = (type ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  if (mediaType === 'application/json' && (charset === undefined || charset.replaceAll('"', '') === 'utf-8'))
    return;
  throw new ProblemError(
    415,
    'Unsupported Media Type',
    `a write takes application/json, not ${type === undefined ? 'a body without content-type' : JSON.stringify(type.slice(0, 100))}`,
    [{ field: 'content-type', message: 'expected application/json (charset utf-8, if given)' }],
  );
}

/** A path segment, percent-decoded; a malformed escape is the caller's error (400), not ours. */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ProblemError(400, 'Bad Request', `the path segment ${segment} is not valid percent-encoding`, [
      { field: 'path', message: 'malformed percent-encoding' },
    ]);
  }
}

interface Input {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
}

function validate(route: OpsRoute, params: Record<string, string>, request: OpsRequest): Input {
  const errors: { field: string; message: string }[] = [];
  let repeats = 0;
  const check = (where: string, schema: z.ZodType | undefined, value: unknown) => {
    if (!schema) return {};
    const parsed = schema.safeParse(value, { error: issueInWords });
    if (parsed.success) return parsed.data as Record<string, unknown>;
    for (const issue of parsed.error.issues.slice(0, 20)) {
      errors.push({ field: [where, ...issue.path.map(String)].join('.'), message: issue.message });
      if (isRepeat(issue)) repeats++;
    }
    return {};
  };
  let body: unknown;
  if (route.body) {
    const text = request.body ?? '';
    if (Buffer.byteLength(text) > MAX_BODY_BYTES)
      throw new ProblemError(413, 'Payload Too Large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
    // No request nests deeply; the schemas' parse recurses, so a deep body is refused before it.
    const bounded = checkText(text, { maxChars: MAX_BODY_BYTES, maxDepth: MAX_BODY_DEPTH });
    if (!bounded.ok)
      throw new ProblemError(400, 'Bad Request', 'the body nests too deeply', [
        { field: 'body', message: bounded.reason },
      ]);
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch (error) {
      throw new ProblemError(400, 'Bad Request', 'the body is not JSON', [
        { field: 'body', message: (error as Error).message },
      ]);
    }
  }
  const input = {
    params: check('path', route.params, params),
    query: check('query', route.query, request.query),
    body: check('body', route.body, body),
  };
  // Well-formed but for a repeated item in a list: the request is understood and cannot be carried out.
  if (errors.length > 0 && repeats === errors.length)
    throw new ProblemError(
      422,
      'Unprocessable Content',
      `invalid request: ${errors[0]!.field}: ${errors[0]!.message}`,
      errors,
    );
  if (errors.length > 0)
    throw new ProblemError(
      400,
      'Bad Request',
      `invalid request: ${errors[0]!.field}: ${errors[0]!.message}`,
      errors,
    );
  return input;
}

// --- idempotency ----------------------------------------------------------------------------------

async function idempotent(
  request: OpsRequest,
  route: OpsRoute,
  store: IdempotencyStore,
  run: () => Promise<OpsResponse>,
): Promise<OpsResponse> {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return run();
  if (key.length === 0 || key.length > 255)
    throw new ProblemError(400, 'Bad Request', 'Idempotency-Key must be 1..255 characters', [
      { field: 'header.Idempotency-Key', message: 'length 1..255' },
    ]);
  // Per caller: one caller's key never answers another's request.
  const scoped = `${request.caller}|${key}`;
  const requestHash = createHash('sha256')
    .update(`${route.method} ${request.path}\n${request.body ?? ''}`)
    .digest('hex');
  const claim = await store.claim(scoped, requestHash);
  if (!claim.claimed) {
    if (claim.record.requestHash !== requestHash)
      throw new ProblemError(
        422,
        'Unprocessable Content',
        'this Idempotency-Key was used for a different request',
      );
    if (claim.record.status === 'in-progress' || !claim.record.response)
      throw new ProblemError(
        409,
        'Conflict',
        'a request with this Idempotency-Key is still in progress; retry in a few seconds',
        undefined,
        { 'retry-after': '5' },
      );
    const { statusCode, body } = claim.record.response;
    return {
      statusCode,
      headers: {
        'content-type': statusCode >= 400 ? 'application/problem+json' : 'application/json',
        'idempotent-replayed': 'true',
      },
      body,
    };
  }
  let response: OpsResponse;
  try {
    response = await run();
  } catch (error) {
    // A refusal (4xx) is the answer to this request and is kept; a failure may succeed when retried, and
    // the key is let go for it.
    const status =
      error instanceof ProblemError ? error.status : (STATUS_BY_ERROR_NAME[(error as Error).name] ?? 500);
    const answer = problem(error);
    await (status >= 500 || status === 429
      ? store.release(scoped)
      : store.complete(scoped, { statusCode: answer.statusCode, body: answer.body })
    ).catch(() => undefined);
    throw error;
  }
  // The write has happened: failing to keep its answer must not fail the request (a retry would then
  // run the write again). The key stays claimed until its lease runs out.
  await store
    .complete(scoped, { statusCode: response.statusCode, body: response.body })
    .catch(() => undefined);
  return response;
}

// --- reads ------------------------------------------------------------------------------------------

let openApi: Record<string, unknown> | undefined;

async function read(
  route: OpsRoute,
  input: Input,
  ports: OpsPorts,
  settings: OpsSettings,
  clock: { now(): Date },
): Promise<unknown> {
  const { params, query } = input;
  switch (route.operationId) {
    case 'getOpenApi':
      // The document follows from the routes alone: built once per container, not on every request.
      openApi ??= openApiDocument();
      return openApi;
    case 'listRollouts': {
      const runs = await ports.rollouts.runs.list(ROLLOUT_WORKFLOW, query.limit as number);
      return {
        rollouts: runs.map((r) => ({ ...r, startDate: iso(r.startDate), stopDate: iso(r.stopDate) })),
      };
    }
    case 'getRollout':
      return describeRollout(params.name as string, ports, clock.now());
    case 'getRoute':
      return routeView(namedRoute(params.route as string, settings), ports);
    case 'getService': {
      const { cluster, service } = params as { cluster: string; service: string };
      knownCluster(cluster, settings);
      const found = await ports.services.describeService(cluster, service);
      if (!found) throw notFound(`service ${cluster}/${service}`);
      const recent = await ports.actions.recent({ target: service, limit: 20 });
      // Task health as the load balancer sees it: the service's tasks are the targets of its target groups.
      const health = await Promise.all(
        found.targetGroupArns.map((arn) => ports.rollouts.targets.targetHealth(arn)),
      );
      const states = health.flatMap((h) => h.targets.map((t) => t.state));
      const taskHealth = {
        healthy: states.filter((state) => state === 'healthy').length,
        unhealthy: states.filter((state) => state === 'unhealthy').length,
        other: states.filter((state) => state !== 'healthy' && state !== 'unhealthy').length,
      };
      return {
        cluster,
        name: found.serviceName,
        desired: found.desiredCount,
        running: found.runningCount,
        pending: found.pendingCount,
        taskDefinition: found.taskDefinitionArn,
        deployments: found.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinitionArn,
          ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
        })),
        targetGroups: found.targetGroupArns,
        taskHealth,
        recentActions: recent.map(actionView),
      };
    }
    case 'listClusters':
      return { clusters: settings.clusters };
    case 'listRoutes':
      return { routes: await Promise.all(settings.routes.map((named) => routeView(named, ports))) };
    case 'listInstances': {
      const cluster = params.cluster as string;
      knownCluster(cluster, settings);
      const [instances, runs] = await Promise.all([
        ports.instanceFleet.list(cluster),
        ports.lifecycleRuns.list(LIFECYCLE_WORKFLOW, 50),
      ]);
      return {
        instances,
        lifecycleWorkflows: runs.map((r) => ({
          ...r,
          startDate: iso(r.startDate),
          stopDate: iso(r.stopDate),
        })),
      };
    }
    case 'listServices': {
      const cluster = params.cluster as string;
      knownCluster(cluster, settings);
      return { services: await ports.serviceOperations.listServices(cluster) };
    }
    case 'getTargetHealth': {
      const health = await ports.rollouts.targets.targetHealth(query.arn as string);
      return {
        targetGroupArn: health.targetGroupArn,
        targets: health.targets.map((t) => ({
          id: t.id,
          ...(t.port ? { port: t.port } : {}),
          state: t.state,
        })),
      };
    }
    case 'getReflexes':
      return reflexesView(ports, settings.reflexes ?? NO_REFLEX_SETTINGS, clock.now());
    case 'listDeployments':
      return deploymentsView(ports, settings.hookServices ?? [], {
        limit: query.limit as number,
        now: clock.now(),
      });
    case 'getServiceDeployments':
      return deploymentsView(
        ports,
        [servedService(params.cluster as string, params.service as string, settings)],
        {
          limit: query.limit as number,
          now: clock.now(),
          history: true,
        },
      );
    case 'listActions': {
      const actions = await ports.actions.recent({
        reflex: query.reflex as string | undefined,
        target: query.target as string | undefined,
        limit: query.limit as number,
      });
      return { actions: actions.map(actionView) };
    }
  }
  throw new ProblemError(500, 'Internal Server Error', `read ${route.operationId} has no handler`);
}

/** A configured route as it is declared (what a rollout request names) and as its router reads it now. */
async function routeView(named: DeclaredRoute, ports: OpsPorts) {
  const state = await ports.rollouts.routers[named.route.router].read(named.route);
  return {
    name: named.name,
    key: routeKey(named.route),
    route: named.route,
    ...(named.services ? { services: named.services } : {}),
    ...state,
  };
}

async function describeRollout(name: string, ports: OpsPorts, now: Date) {
  const run = await ports.rollouts.runs.describe(ROLLOUT_WORKFLOW, name);
  if (!run) throw notFound(`rollout ${name}`);
  const request = rolloutRequestOf(run.input);
  const state = (run.latest as { state?: RolloutState } | undefined)?.state;
  const step = state?.plan && state.progress ? stepReached(state) : undefined;
  // What the route holds now, not what the last step wrote: after a rollback or an abort they differ.
  const weights = request
    ? (await ports.rollouts.routers[request.route.router].read(request.route)).weights
    : undefined;
  const target = request ? `${request.service} ${routeKey(request.route)}` : undefined;
  const history = target
    ? (await ports.actions.recent({ reflex: 'rollout', target, since: run.startDate, limit: 200 }))
        .filter((a) => !run.stopDate || a.at.getTime() <= run.stopDate.getTime() + 60_000)
        .reverse()
    : [];
  return {
    name: run.name,
    status: run.status,
    startDate: iso(run.startDate),
    stopDate: iso(run.stopDate),
    service: request?.service,
    route: request ? routeKey(request.route) : undefined,
    error: run.error,
    cause: run.cause,
    step,
    steps: state?.plan?.length,
    weights: weights ?? state?.progress?.weights,
    next: state?.next,
    // Waiting, as the steering sees it: a gate already answered (resumed, aborted) is no longer one.
    gate:
      run.status === 'RUNNING' && state && waitsAtGate(run.latest)
        ? gateOf(state, step ?? 0, history, now)
        : undefined,
    lastAnalysis: state?.progress?.lastAnalysis,
    history: history.map(actionView),
  };
}

/** What a rollout's run journals as it moves on: one of these after a gate's line means a later step. */
const RUN_STEPS = new Set(['start-rollout', 'shift-traffic', 'analyse', 'promote', 'rollback']);

/**
 * A gate the run waits at: the reason it gave, the step it waits after (the view's own step), when it began
 * to wait, when the wait times out and rolls back, and the seconds left until then by this API's clock (a
 * browser's may be off, or the twin's virtual).
 */
function gateOf(state: RolloutState, afterStep: number, history: { action: string; at: Date }[], now: Date) {
  const reason = state.reason ?? 'manual gate';
  // This gate's line, not an earlier gate's (the history may not hold it yet: logs arrive late): none of
  // the run's steps came after it.
  const at = history.findLastIndex((a) => a.action === 'wait-at-gate');
  if (at < 0 || history.slice(at + 1).some((a) => RUN_STEPS.has(a.action))) return { reason, afterStep };
  const waiting = history[at]!;
  const rollsBackAt = waiting.at.getTime() + GATE_TIMEOUT_SECONDS * 1000;
  return {
    reason,
    afterStep,
    since: waiting.at.toISOString(),
    rollsBackAt: new Date(rollsBackAt).toISOString(),
    secondsLeft: Math.max(0, Math.round((rollsBackAt - now.getTime()) / 1000)),
  };
}

// --- writes -----------------------------------------------------------------------------------------

interface WriteOutcome {
  target: string;
  reason: string;
  body: Record<string, unknown> & { dryRun: boolean };
}

async function write(
  route: OpsRoute,
  input: Input,
  caller: string,
  ports: OpsPorts,
  settings: OpsSettings,
  clock: { now(): Date },
): Promise<WriteOutcome> {
  const { params, body } = input;
  const dryRun = body.dryRun === true;
  const why = (body.reason as string | undefined) ?? 'no reason given';
  const accepted = (target: string, status: string, detail: string, extra: Record<string, unknown> = {}) => ({
    target,
    reason: `${detail} (${why})`,
    body: { status: dryRun ? 'dry-run' : status, dryRun, detail, ...extra },
  });

  switch (route.operationId) {
    case 'startRollout': {
      const spec = body.rollout as RolloutState['rollout'];
      // The routes configured for the API are the ones rollouts may run on (the workflow checks again).
      try {
        checkAllowed(spec, 'ops-api', { ...ports.rollouts, declaredRoutes: settings.routes });
      } catch (error) {
        if (!(error instanceof RolloutNotAllowedError)) throw error;
        throw new ProblemError(
          403,
          'Forbidden',
          error.message,
          error.issues.map((i) => ({ field: `body.rollout.${i.path}`, message: i.message })),
        );
      }
      // A service of the route that another controller deploys (or shifts right now): 409, nothing started.
      await refuseIfControlledElsewhere(spec, 'ops-api', {
        ...ports.rollouts,
        declaredRoutes: settings.routes,
      });
      const owner = (await ports.rollouts.routers[spec.route.router].read(spec.route)).owner;
      if (await ownerRunning(owner, ports))
        throw conflict(`rollout ${owner} owns route ${routeKey(spec.route)} and is still running`);
      const name = (body.name as string | undefined) ?? generatedName(spec.service, clock.now());
      if (dryRun) return accepted(name, 'started', `would start rollout ${name}`, { name });
      const started = await ports.workflows.start(ROLLOUT_WORKFLOW, name, { rollout: spec });
      if (!started.started) throw conflict(`a rollout named ${name} exists already`);
      return accepted(name, 'started', `rollout ${name} started by ${caller}`, { name });
    }
    case 'pauseRollout':
    case 'resumeRollout':
    case 'promoteRollout':
    case 'abortRollout': {
      const name = params.name as string;
      const status = await ports.rollouts.runs.status(ROLLOUT_WORKFLOW, name);
      if (status === 'unknown') throw notFound(`rollout ${name}`);
      if (status === 'ended') throw conflict(`rollout ${name} has ended`);
      const verb = route.operationId.replace('Rollout', '');
      if (dryRun) return accepted(name, verb, `would ${verb} rollout ${name}`);
      const result = await steer(verb, name, `${verb} by ${caller}: ${why}`, ports);
      if (result === 'not-running') throw conflict(`rollout ${name} is not running`);
      if (result === 'not-waiting') throw conflict(`rollout ${name} is not waiting at a gate`);
      if (result === 'already-paused') throw conflict(`rollout ${name} is paused already`);
      return accepted(name, result, `${verb} rollout ${name}: ${result}`);
    }
    case 'setRouteWeights': {
      const named = namedRoute(params.route as string, settings);
      const router = ports.rollouts.routers[named.route.router];
      const state = await router.read(named.route);
      const owned = await ownerRunning(state.owner, ports);
      if (owned && body.force !== true)
        throw conflict(
          `rollout ${state.owner} owns route ${named.name}; set force to override (the rollout will see it)`,
        );
      const weights = weightsFor(body.canary as number);
      if (!dryRun) await router.setWeights(named.route, weights, state);
      return accepted(
        routeKey(named.route),
        'set',
        `route ${named.name} to ${weights.canary}% canary${owned ? `, over rollout ${state.owner}` : ''}`,
        {
          weights,
        },
      );
    }
    case 'recycleService': {
      const { cluster, service } = params as { cluster: string; service: string };
      knownCluster(cluster, settings);
      const found = await ports.services.describeService(cluster, service);
      if (!found) throw notFound(`service ${cluster}/${service}`);
      // One rolling replacement at a time: a deployment in flight is its own blast radius already.
      if (found.deployments.length > 1 || found.deployments.some((d) => d.rolloutState === 'IN_PROGRESS'))
        throw conflict(`service ${cluster}/${service} is in the middle of a deployment`);
      if (!dryRun) await ports.serviceOperations.forceNewDeployment(cluster, service);
      return accepted(
        `${cluster}/${service}`,
        'recycling',
        `replace every task of ${cluster}/${service}, rolling`,
      );
    }
    case 'resumeDeploymentGate':
    case 'abortDeploymentGate': {
      const decision = route.operationId === 'resumeDeploymentGate' ? 'resume' : 'abort';
      const { cluster, service, deployment } = params as {
        cluster: string;
        service: string;
        deployment: string;
      };
      const gate = await openGate(cluster, service, deployment, settings, ports);
      const target = `${cluster}/${service} ${deployment} ${gate.stage}`;
      // The first answer stands: the same one again is a retry, another one a conflict.
      if (gate.answered?.decision === decision)
        return accepted(
          target,
          decision === 'resume' ? 'resumed' : 'aborted',
          `already ${decision}d by ${gate.answered.by}`,
        );
      if (gate.answered)
        throw conflict(
          `the gate at ${gate.stage} was answered ${gate.answered.decision} by ${gate.answered.by}`,
        );
      if (dryRun)
        return accepted(target, decision, `would ${decision} deployment ${deployment} at ${gate.stage}`);
      // Two answers given at the same moment both find the tag empty, and a tag write has no condition: the
      // table's conditional put picks the first, and the tag only ever carries that one.
      const held = await ports.gateAnswers.record(`${cluster}/${service}/${deployment}/${gate.stage}`, {
        decision,
        by: caller,
      });
      if (held.decision !== decision)
        throw conflict(`the gate at ${gate.stage} was answered ${held.decision} by ${held.by}`);
      // Written by every caller of the same answer (a retry after a call died between the put and the tag).
      await ports.services.tagService(cluster, service, {
        [GATE_TAG_KEY]: gateTagValue({ deploymentId: deployment, stage: gate.stage, ...held }),
      });
      return accepted(
        target,
        decision === 'resume' ? 'resumed' : 'aborted',
        held.by === caller
          ? `${decision} deployment ${deployment} of ${cluster}/${service} at ${gate.stage}: the hook reads it at its next invocation`
          : `already ${decision}d by ${held.by}`,
      );
    }
    case 'drainInstance': {
      const cluster = body.cluster as string;
      const instanceId = params.instanceId as string;
      knownCluster(cluster, settings);
      const instance = await ports.instances.describe(cluster, instanceId);
      if (!instance) throw notFound(`container instance ${instanceId} in ${cluster}`);
      if (!dryRun) await ports.instances.drain(cluster, instanceId);
      return accepted(
        `${cluster}/${instanceId}`,
        'draining',
        `drain ${instanceId} (${instance.runningServiceTasks} service task(s) move)`,
      );
    }
  }
  throw new ProblemError(500, 'Internal Server Error', `write ${route.operationId} has no handler`);
}

/**
 * Whether a route's owner is a rollout still running. An aborted run's mark (`aborted:<run>`) is no
 * execution name: that run has stopped, and its route is being put back on stable.
 */
async function ownerRunning(owner: string | undefined, ports: OpsPorts): Promise<boolean> {
  if (!owner || isAbortedMark(owner)) return false;
  return (await ports.rollouts.runs.status(ROLLOUT_WORKFLOW, owner)) === 'running';
}

function steer(verb: string, name: string, reason: string, ports: OpsPorts): Promise<string> {
  const { rollouts } = ports;
  if (verb === 'pause') return pauseRollout(name, rollouts, rolloutRequestOf);
  if (verb === 'resume') return resumeRollout(name, rollouts);
  if (verb === 'promote') return promoteRollout(name, rollouts, rolloutRequestOf);
  return abortRollout(name, reason, rollouts, rolloutRequestOf);
}

// --- helpers -----------------------------------------------------------------------------------------

/**
 * The deployment hook's gate a person answers: the service is one the hook serves, ECS knows the deployment
 * as this service's and running, and the stage it is at has a gate in the hook's settings for it.
 */
async function openGate(
  cluster: string,
  service: string,
  deploymentId: string,
  settings: OpsSettings,
  ports: OpsPorts,
): Promise<{ stage: HookStage; answered?: GateAnswerSeen }> {
  const served = servedService(cluster, service, settings);
  const found = await ports.services.describeService(cluster, service);
  if (!found) throw notFound(`service ${cluster}/${service}`);
  const arn = `${found.serviceArn.replace(':service/', ':service-deployment/')}/${deploymentId}`;
  const deployment = await ports.nativeDeployments.deployment(arn);
  if (!deployment || deployment.serviceArn !== found.serviceArn)
    throw notFound(`deployment ${deploymentId} of ${cluster}/${service}`);
  if (deployment.status !== 'IN_PROGRESS')
    throw conflict(`deployment ${deploymentId} is ${deployment.status}: no gate waits`);
  const stage = HOOK_STAGES.find((s) => s === deployment.lifecycleStage);
  const hookSettings = hookSettingsOf(deployment, served);
  if (!stage || !('settings' in hookSettings) || !hookSettings.settings.gates.some((g) => g.stage === stage))
    throw conflict(
      `deployment ${deploymentId} is at ${deployment.lifecycleStage ?? 'no stage'}, where the hook has no gate`,
    );
  const answered = gateAnswerFor(found.tags, deploymentId, stage);
  return { stage, ...(answered ? { answered } : {}) };
}

/** A service the deployment hook serves (its stage's deploymentHookServices): no other is shown or answered. */
function servedService(cluster: string, service: string, settings: OpsSettings): HookService {
  knownCluster(cluster, settings);
  const served = (settings.hookServices ?? []).find((s) => s.cluster === cluster && s.service === service);
  if (!served) throw notFound(`a service ${cluster}/${service} the deployment hook serves`);
  return served;
}

function namedRoute(name: string, settings: OpsSettings) {
  const named = settings.routes.find((r) => r.name === name);
  if (!named) throw notFound(`route ${name}`);
  return named;
}

function knownCluster(cluster: string, settings: OpsSettings): void {
  if (!settings.clusters.includes(cluster)) throw notFound(`cluster ${cluster}`);
}

/** An execution name from the service and the time: unique enough, readable, within 80 characters. */
function generatedName(service: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${service.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60)}-${stamp}`;
}

const iso = (date: Date | undefined) => date?.toISOString();

const actionView = (a: JournalEntry & { at: Date }) => ({
  at: a.at.toISOString(),
  reflex: a.reflex,
  action: a.action,
  target: a.target,
  reason: a.reason,
  outcome: a.outcome,
  ...(a.detail ? { detail: a.detail } : {}),
});

function json(statusCode: number, body: unknown): OpsResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Every error leaves as a problem document; an unknown one as a 500 without its detail. */
function problem(error: unknown): OpsResponse {
  const named = error as Error;
  const known = error instanceof ProblemError;
  const status = known ? error.status : (STATUS_BY_ERROR_NAME[named?.name] ?? 500);
  const title = known ? error.title : (STATUS_TITLES[status] ?? 'Error');
  const detail = known || status < 500 ? named.message : 'internal error; see the function log';
  const errors = known
    ? error.errors
    : named?.name === 'InvalidInputError'
      ? (named as unknown as { issues: { path: string; message: string }[] }).issues.map((i) => ({
          field: i.path,
          message: i.message,
        }))
      : undefined;
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/problem+json',
      ...(status === 429 ? { 'retry-after': '5' } : {}),
      ...(known ? error.headers : {}),
    },
    body: JSON.stringify({ type: 'about:blank', title, status, detail, ...(errors ? { errors } : {}) }),
  };
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};
