// Every function serverless.yml deploys, as Lambda receives it: the zips `serverless package` writes and
// the environment the packaged template gives each function. Sections 1 and 2 of the bench read these.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';

/** One function of the packaged template. */
export interface PackagedFunction {
  name: string;
  /** `functions/opsApi.readHandler`: the file in the zip, and the export Lambda calls. */
  handler: string;
  zipPath: string;
  /** The template's variables, with what CloudFormation fills in stood in for (see standIn). */
  environment: Record<string, string>;
}

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

/**
 * A value CloudFormation computes at deploy time (Ref, Fn::Sub, Fn::Join, Fn::GetAtt), stood in for by one
 * of the same shape: the functions' configuration checks the shape (a queue URL, an ARN, a table name).
 */
function standIn(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  // The router refuses a queue that is not FIFO.
  if (key === 'TASK_GROUP_QUEUE_URL')
    return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/ecs-reflex-dev-task-recycler-groups.fifo`;
  // GET /reflexes reads every dead-letter queue: the prefix of their URLs, before the names the template lists.
  if (key === 'DEAD_LETTER_QUEUE_URL_PREFIX')
    return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/ecs-reflex-dev-`;
  if (key.endsWith('_QUEUE_URL'))
    return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${key.toLowerCase()}`;
  if (key.endsWith('TOPIC_ARN')) return `arn:aws:sns:${REGION}:${ACCOUNT}:${key.toLowerCase()}`;
  if (key.endsWith('STATE_MACHINE_ARN'))
    return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${key.toLowerCase()}`;
  if (key.endsWith('_TABLE')) return 'ecs-reflex-dev-ops-idempotency';
  // A Ref of a function is its name.
  if (key === 'DEPLOYMENT_HOOK_FUNCTION_NAME') return 'ecs-reflex-dev-deploymentHook';
  throw new Error(`bench: no stand-in for ${key} = ${JSON.stringify(value)}`);
}

/** The functions of the packaged template, in the order serverless.yml lists them. */
export function packagedFunctions(packageDir: string): PackagedFunction[] {
  const template = JSON.parse(
    readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([, { Properties: fn }]) => {
      const name = String((fn.FunctionName as string).split('-').pop());
      const variables =
        (fn.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      return {
        name,
        handler: fn.Handler as string,
        zipPath: join(packageDir, `${name}.zip`),
        environment: Object.fromEntries(
          Object.entries(variables).map(([key, value]) => [key, standIn(key, value)]),
        ),
      };
    });
}

/**
 * What Lambda adds to a function's environment (the credentials are the execution role's, from the
 * environment: the SDK reads them from there first). The function name tells Powertools it runs in Lambda.
 */
export function lambdaEnvironment(name: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: `ecs-reflex-dev-${name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/ecs-reflex-dev-${name}`,
    AWS_ACCESS_KEY_ID: 'ASIABENCHBENCHBENCH0',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    TZ: ':UTC',
  };
}

/** The ARN Lambda's context names; events from this account and region are the stack's own. */
export const functionArn = (name: string) =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ecs-reflex-dev-${name}`;

const envelope = (source: string, detailType: string, detail: unknown) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': detailType,
  source,
  account: ACCOUNT,
  time: '2026-01-01T00:00:00Z',
  region: REGION,
  resources: [],
  detail,
});

/** An SQS batch of one message, as Lambda's poller hands it to a function (bench/handler.ts too). */
export const sqsBatch = (body: string, queue = 'queue'): SQSEvent => ({
  Records: [
    {
      messageId: 'bench-0',
      receiptHandle: 'bench-0-1',
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}`,
      awsRegion: REGION,
    },
  ],
});

export const httpEvent = (method: string, path: string, body?: string) => ({
  version: '2.0',
  routeKey: `${method} ${path}`,
  rawPath: path,
  rawQueryString: '',
  headers: { 'content-type': 'application/json' },
  requestContext: {
    accountId: ACCOUNT,
    apiId: 'bench',
    http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'bench',
    routeKey: `${method} ${path}`,
    stage: '$default',
    time: '01/Jan/2026:00:00:00 +0000',
    timeEpoch: 0,
    authorizer: { iam: { userArn: `arn:aws:iam::${ACCOUNT}:user/bench` } },
  },
  ...(body === undefined ? {} : { body }),
  isBase64Encoded: false,
});

export interface BenchEvent {
  /** What the function does with it, in a few words: no AWS call, so the figure is the function's own. */
  what: string;
  event: unknown;
  /** Some paths end in a thrown error, as Lambda would see it; the bench counts that as the outcome. */
  throws?: boolean;
  /** Variables changed from the deployed ones, so that the path makes no AWS call (said in `what`). */
  environment?: Record<string, string>;
}

/**
 * One event per function whose path makes no AWS call (the bench has no AWS to answer), through the
 * function's whole stack: middy, Powertools logging and metrics as deployed, the edge's zod parse and,
 * where the path reaches it, the function's ports.
 */
export const BENCH_EVENTS: Record<string, BenchEvent> = {
  taskRecycler: {
    what: 'SQS batch of one EventBridge event it does not handle: parsed, ignored',
    event: sqsBatch(JSON.stringify(envelope('aws.ecs', 'ECS Container Instance State Change', {}))),
  },
  taskRecyclerRouter: {
    what: 'an empty SQS batch (Lambda sends none; every record is sent on): nothing to send',
    event: { Records: [] },
  },
  taskRecyclerSweep: {
    what: 'the minute schedule, with no watched group or restarted family: nothing to enqueue',
    event: envelope('aws.events', 'Scheduled Event', {}),
    environment: { RECYCLER_POLICY: '{}' },
  },
  alarmReactor: {
    what: 'an EventBridge event that is no alarm state change: parsed, ignored',
    event: envelope('aws.ec2', 'EC2 Instance State-change Notification', {}),
  },
  lifecycleHook: {
    what: "SQS batch of Auto Scaling's TEST_NOTIFICATION: parsed, skipped",
    event: sqsBatch(
      JSON.stringify({
        AccountId: ACCOUNT,
        RequestId: 'bench',
        AutoScalingGroupARN: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:x:autoScalingGroupName/g`,
        AutoScalingGroupName: 'g',
        Service: 'AWS Auto Scaling',
        Event: 'autoscaling:TEST_NOTIFICATION',
        Time: '2026-01-01T00:00:00Z',
      }),
    ),
  },
  instanceLifecycleStep: {
    what: 'a step input missing its hook: refused with a named error (every valid step calls AWS)',
    event: { action: 'look', progress: { looks: 0 } },
    throws: true,
  },
  rolloutStep: {
    what: 'a step input missing its state: refused with a named error (every valid step calls AWS)',
    event: { action: 'shift' },
    throws: true,
  },
  rolloutSafetyNet: {
    what: "another stage's rollout that ended FAILED: parsed, not this stack's",
    event: envelope('aws.states', 'Step Functions Execution Status Change', {
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:other-rollout:run`,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:other-rollout`,
      name: 'run',
      status: 'FAILED',
      startDate: 0,
      stopDate: 0,
      input: '{}',
      output: null,
    }),
  },
  opsRead: {
    what: 'GET /openapi.json: the API document, from memory',
    event: httpEvent('GET', '/openapi.json'),
  },
  opsWrite: {
    what: 'POST /rollouts with a body that is not JSON: a 400 problem document',
    event: httpEvent('POST', '/rollouts', 'not json'),
  },
  deploymentHook: {
    what: "ECS's POST_SCALE_UP payload for a service the stage does not list: refused before any AWS call",
    event: {
      executionId: '2d9f5083-7c41-4e3a-9029-f3b2c8e4d567',
      lifecycleStage: 'POST_SCALE_UP',
      resourceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/bench/not-listed/Qm3vT8xZpL2rWc9NhY4Ke`,
      executionDetails: {
        serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/bench/not-listed`,
        targetServiceRevisionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/bench/not-listed/7402918830016652210`,
        testTrafficWeights: {},
        productionTrafficWeights: {},
      },
    },
    throws: true,
  },
};
