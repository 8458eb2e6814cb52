// The standard middy stacks. Every function gets the same observability (structured logs with the Lambda
// context, EMF metrics flushed at the end, and a trace where the stage turns tracing on); the stacks
// differ only in how errors leave.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { InvalidInputError } from '#runtime/errors';
import { logger, metrics, serviceName } from '#runtime/powertools';
import { tracingMiddleware } from '#runtime/tracing';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

function observed<E, R>(handler: Handler<E, R>) {
  const tracing = tracingMiddleware(serviceName);
  return middy(handler)
    .use(tracing ? [tracing] : [])
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined }));
}

/** EventBridge and SQS triggers: errors propagate, so the trigger's retry policy and DLQ apply. */
export const eventStack = <E, R>(handler: Handler<E, R>) => observed(handler);

export interface StepErrorOptions {
  /** Name given to anything thrown that is not an Error, so a Catch in the ASL can still match it. */
  fallbackName: string;
}

/** Step Functions Retry/Catch match on `error.name`: make sure every thrown thing has a meaningful one. */
export function namedStepErrors(options: Partial<StepErrorOptions> = {}): MiddlewareObj {
  const { fallbackName } = { fallbackName: 'StepFailed', ...options };
  return {
    onError: async (request) => {
      const error = request.error as unknown;
      if (error instanceof Error) return;
      const named = new Error(String(error));
      named.name = fallbackName;
      request.error = named;
    },
  };
}

export const stepStack = <E, R>(handler: Handler<E, R>, options?: Partial<StepErrorOptions>) =>
  observed(handler).use(namedStepErrors(options));

export interface ProblemOptions {
  /** Status for errors nobody mapped: the caller sees a generic 500, the log keeps the detail. */
  defaultStatus: number;
  statusByName: Record<string, number>;
}

/** HTTP API: every error becomes an RFC 9457 problem document, never a stack trace. */
export function problemResponses(options: Partial<ProblemOptions> = {}): MiddlewareObj {
  const settings: ProblemOptions = {
    defaultStatus: 500,
    ...options,
    statusByName: { InvalidInputError: 400, ...options.statusByName },
  };
  return {
    onError: async (request) => {
      const error = request.error as Error;
      const status = settings.statusByName[error.name] ?? settings.defaultStatus;
      if (status >= 500) logger.error('request failed', { error });
      request.response = {
        statusCode: status,
        headers: { 'content-type': 'application/problem+json' },
        body: JSON.stringify({
          type: 'about:blank',
          title: error.name,
          status,
          detail: status >= 500 ? 'internal error' : error.message,
          ...(error instanceof InvalidInputError ? { errors: error.issues } : {}),
        }),
      };
    },
  };
}

export const httpStack = <E, R>(handler: Handler<E, R>, options?: Partial<ProblemOptions>) =>
  observed(handler).use(problemResponses(options));
