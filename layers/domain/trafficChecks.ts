// Tests before traffic (Flagger's pre-rollout webhooks, CodeDeploy's BeforeAllowTraffic): an `http` check
// sends N requests to a URL the new version answers on (an ALB test listener, say) and counts the answers
// that look right; a `lambda` check invokes a function that tests the new version and answers
// `{ "passed": true }`. What the adapters saw goes in; a verdict in rolloutAnalysis's terms comes out:
// pass, fail (the new version answered wrongly) or error (the provider is broken: no answer at all from the
// URL, a function that is missing, throws or may not be called), never mistaken for one another, as Argo
// Rollouts keeps a failed measurement apart from an errored one.
import * as z from 'zod';
import type { CheckOutcome } from '#domain/rolloutAnalysis';

const Name = z.string().min(1).max(255);

export const MAX_HTTP_TIMEOUT_SECONDS = 10;
export const MAX_HTTP_REQUESTS = 100;
/** An http check sends its requests in waves of this many at once. */
export const HTTP_CONCURRENCY = 10;
/**
 * The most time the checks of one stage may take, worst case, added up: they run inside one step of the
 * rollout (its function stops at 45 s, infra: rolloutStep), so a stage's tests are smoke tests, not a suite.
 */
export const MAX_CHECKS_SECONDS = 30;
/** Bytes of a response body read for the pattern (the rest is not read). */
export const BODY_READ_LIMIT = 64 * 1024;
/** A Lambda check's reason is shown in the history: bounded. */
const REASON_LIMIT = 300;

/**
 * Addresses an http check never reaches: the requests are sent from the rollout step's function, whose own
 * runtime API listens on loopback and whose environment's metadata endpoints are link-local (169.254.x,
 * fd00:ec2::). An IPv4-mapped IPv6 address reaches the same IPv4 host and is judged as that host; the URL
 * parser writes it in hex (`[::ffff:127.0.0.1]` becomes `[::ffff:7f00:1]`), the resolver dotted.
 */
export function isRefusedAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
  const mapped = /^::ffff:(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/.exec(ip);
  const ipv4 = mapped
    ? (mapped[3] ??
      [mapped[1]!, mapped[2]!]
        .flatMap((hex) => [Number.parseInt(hex, 16) >> 8, Number.parseInt(hex, 16) & 255])
        .join('.'))
    : ip;
  return /^(127\.|0\.0\.0\.0$|169\.254\.)/.test(ipv4) || /^(::1?$|fd00:ec2::|fe[89ab][0-9a-f]:)/.test(ip);
}

/** A URL's host that is refused as written; a name is judged again by what it resolves to (the adapter). */
const isOwnHost = (hostname: string): boolean => /^localhost/i.test(hostname) || isRefusedAddress(hostname);

const HttpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'an http:// or https:// URL, without credentials')
  .refine((value) => {
    try {
      return !isOwnHost(new URL(value).hostname);
    } catch {
      return true;
    }
  }, "not a loopback or link-local address (the checking function's own runtime and metadata endpoints)");

const BodyPattern = z
  .string()
  .min(1)
  .max(256)
  .refine((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'a JavaScript regular expression');

/** A function's name, name:alias, partial ARN or ARN, as Invoke takes it (its FunctionName pattern). */
const FunctionRef = z
  .string()
  .max(170)
  .regex(
    /^(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:)?[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]+))?$/,
    'a function name, name:qualifier or function ARN',
  );

export const HttpCheckSchema = z.strictObject({
  name: Name,
  kind: z.literal('http'),
  url: HttpUrl,
  method: z.enum(['GET', 'HEAD']).default('GET'),
  requests: z.number().int().min(1).max(MAX_HTTP_REQUESTS).default(10),
  timeoutSeconds: z.number().int().min(1).max(MAX_HTTP_TIMEOUT_SECONDS).default(5),
  /** Statuses that count as a success (default 200). */
  expectStatus: z
    .array(z.number().int().min(100).max(599))
    .min(1)
    .max(10)
    .refine((statuses) => new Set(statuses).size === statuses.length, 'a status is repeated')
    .meta({ uniqueItems: true })
    .default([200]),
  /** Must also match the body's first 64 KiB. */
  bodyPattern: BodyPattern.optional(),
  /** Share of the requests that must succeed. */
  minSuccessRatio: z.number().min(0).max(1).default(1),
});

export const LambdaCheckSchema = z.strictObject({
  name: Name,
  kind: z.literal('lambda'),
  function: FunctionRef,
  /** Given to the function as its event, with the check's context (`check`, `rollout`). */
  payload: z
    .record(z.string(), z.unknown())
    .refine((p) => JSON.stringify(p).length <= 4096, 'at most 4096 bytes as JSON')
    .optional(),
  /** How long to wait for the function's answer. */
  timeoutSeconds: z.number().int().min(1).max(MAX_CHECKS_SECONDS).default(10),
});

export const TrafficCheckSchema = z.discriminatedUnion('kind', [HttpCheckSchema, LambdaCheckSchema]);

export type HttpCheck = z.infer<typeof HttpCheckSchema>;
export type LambdaCheck = z.infer<typeof LambdaCheckSchema>;
export type TrafficCheck = z.infer<typeof TrafficCheckSchema>;

/** The longest a check can take, worst case: each wave of requests waits at most the timeout. */
export const worstCaseSeconds = (check: TrafficCheck) =>
  check.kind === 'http'
    ? Math.ceil(check.requests / HTTP_CONCURRENCY) * check.timeoutSeconds
    : check.timeoutSeconds;

/** A list of checks that could not finish within one step is refused before anything runs. */
export function checksBudgetProblem(checks: readonly TrafficCheck[]): string | undefined {
  const total = checks.reduce((sum, check) => sum + worstCaseSeconds(check), 0);
  return total > MAX_CHECKS_SECONDS
    ? `the checks may take ${total} s (each wave of 10 requests its timeout, each function its timeout), more than ${MAX_CHECKS_SECONDS} s`
    : undefined;
}

/** The function a lambda check names, without its ARN prefix or qualifier. */
export function functionNameOf(ref: string): string {
  const parts = ref.split(':');
  // name, name:qualifier, or arn:…:function:name[:qualifier]
  const at = parts.indexOf('function');
  return at >= 0 ? (parts[at + 1] ?? '') : (parts[0] ?? '');
}

/**
 * Lambda checks naming a function the stack may not invoke (its stage's trafficCheckFunctions): refused
 * before anything starts, as IAM would refuse the Invoke, but said where the request is made.
 */
export function checkFunctionProblems(
  checks: readonly TrafficCheck[],
  allowed: readonly string[],
  path: string,
): { path: string; message: string }[] {
  return checks.flatMap((check, i) =>
    check.kind === 'lambda' && !allowed.includes(functionNameOf(check.function))
      ? [
          {
            path: `${path}.${i}.function`,
            message: `function ${functionNameOf(check.function)} is not one the stack may invoke (${allowed.join(', ') || 'none'}: the stage's trafficCheckFunctions)`,
          },
        ]
      : [],
  );
}

// --- what the adapters saw -----------------------------------------------------------------------------

/** One request's answer, or why there was none (a timeout, a refused connection, DNS). */
export type HttpAnswer = { status: number; body?: string } | { failure: string };

export type LambdaAnswer =
  /** The function returned: its payload as it came (text). */
  | { returned: string }
  /** The function ran and threw (Invoke's FunctionError): its error payload. */
  | { threw: string; payload?: string }
  /** Invoke itself failed: no such function, not allowed, throttled, timed out. */
  | { unavailable: string };

export type TrafficCheckObservation =
  | { kind: 'http'; answers: HttpAnswer[] }
  | { kind: 'lambda'; answer: LambdaAnswer };

// --- the verdict ---------------------------------------------------------------------------------------

const clip = (text: string) => (text.length > REASON_LIMIT ? `${text.slice(0, REASON_LIMIT)}…` : text);

export function assessTrafficCheck(check: TrafficCheck, seen: TrafficCheckObservation): CheckOutcome {
  if (check.kind === 'http' && seen.kind === 'http') return assessHttp(check, seen.answers);
  if (check.kind === 'lambda' && seen.kind === 'lambda') return assessLambda(check, seen.answer);
  return { check: check.name, result: 'error', reason: `no ${check.kind} observation` };
}

function assessHttp(check: HttpCheck, answers: HttpAnswer[]): CheckOutcome {
  const name = check.name;
  const answered = answers.filter((a): a is { status: number; body?: string } => 'status' in a);
  // Not one HTTP answer: nothing says whether the new version is wrong or the way to it is (a wrong URL, a
  // listener not there yet, a network rule). A provider that is broken, not a failed test.
  if (answered.length === 0) {
    const first = answers.find((a): a is { failure: string } => 'failure' in a);
    return {
      check: name,
      result: 'error',
      reason: `no answer from ${check.url} in ${answers.length} request(s)${first ? `: ${clip(first.failure)}` : ''}`,
    };
  }
  const pattern = check.bodyPattern === undefined ? undefined : new RegExp(check.bodyPattern);
  const good = (a: { status: number; body?: string }) =>
    check.expectStatus.includes(a.status) && (!pattern || pattern.test(a.body ?? ''));
  const successes = answered.filter(good).length;
  // A request that got no answer while others did counts against the new version (it hung or refused).
  const ratio = successes / answers.length;
  const statuses = [...new Set(answered.map((a) => a.status))].sort().join(', ');
  const missed = answers.length - answered.length;
  const seenText = `${successes}/${answers.length} as expected (status ${statuses}${missed ? `; ${missed} without an answer` : ''})`;
  return ratio >= check.minSuccessRatio
    ? { check: name, result: 'pass', reason: seenText }
    : {
        check: name,
        result: 'fail',
        reason: `${seenText}, fewer than ${Math.round(check.minSuccessRatio * 100)} %${pattern ? ` with status ${check.expectStatus.join('/')} and body matching /${check.bodyPattern}/` : ` with status ${check.expectStatus.join('/')}`}`,
      };
}

function assessLambda(check: LambdaCheck, answer: LambdaAnswer): CheckOutcome {
  const name = check.name;
  const fn = check.function;
  if ('unavailable' in answer)
    return {
      check: name,
      result: 'error',
      reason: `${fn} could not be invoked: ${clip(answer.unavailable)}`,
    };
  if ('threw' in answer)
    return {
      check: name,
      result: 'error',
      reason: `${fn} threw (${answer.threw})${answer.payload ? `: ${clip(answer.payload)}` : ''}`,
    };
  let payload: unknown;
  try {
    payload = JSON.parse(answer.returned);
  } catch {
    return { check: name, result: 'fail', reason: `${fn} answered no JSON: ${clip(answer.returned)}` };
  }
  const said = payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  const reason = typeof said.reason === 'string' ? clip(said.reason) : undefined;
  if (said.passed === true)
    return { check: name, result: 'pass', reason: `${fn} passed${reason ? `: ${reason}` : ''}` };
  // Only `passed: true` passes: a function that forgot to say is not taken to agree.
  return {
    check: name,
    result: 'fail',
    reason: `${fn} did not pass${reason ? `: ${reason}` : `: answered ${clip(answer.returned)}`}`,
  };
}
