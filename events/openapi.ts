import * as z from 'zod';
import { type OpsRoute, opsRoutes, ProblemSchema } from '#events/opsApi';

/*
 * The OpenAPI 3.1 document of the ops API, generated from the same zod schemas the handlers validate
 * with. It is checked in as openapi.json (a test fails when it is stale: `npm run openapi` rewrites it)
 * and served at GET /openapi.json.
 */

const STANDARD_ERRORS: Record<number, string> = {
  400: 'invalid input: the fields at fault are listed',
  403: 'not signed, or not allowed (IAM, or a rollout on a route or service the stack does not declare)',
  404: 'no such resource',
  409: 'conflict: a rollout owns the route, or one already runs, or the same Idempotency-Key is in flight',
  413: 'body larger than 64 KiB',
  415: 'a write whose body is not application/json',
  422: 'an Idempotency-Key reused for a different request, or a list in the body with a repeated item',
  429: 'throttled: retry after the Retry-After seconds',
  500: 'internal error',
};

const schema = (type: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(type, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;

function parameters(route: OpsRoute) {
  const list: Record<string, unknown>[] = [];
  for (const [where, object] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!object) continue;
    const json = schema(object, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      list.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
      });
    }
  }
  if (route.access === 'write')
    list.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'makes the write safe to retry: the same key and request get the first answer again (24 h)',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  return list;
}

function operation(route: OpsRoute) {
  const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  const standard = route.access === 'write' ? [400, 403, 413, 415, 429, 500] : [400, 403, 413, 429, 500];
  const errors = [...new Set([...standard, ...route.errors])].sort((a, b) => a - b);
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.access],
    security: [{ sigv4: [] }],
    parameters: parameters(route),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(route.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [route.status]: {
        description: 'success',
        content: { 'application/json': { schema: schema(route.response, 'output') } },
      },
      ...Object.fromEntries(
        errors.map((status) => [status, { description: STANDARD_ERRORS[status], content: problem }]),
      ),
    },
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of opsRoutes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ecs-reflex ops API',
      version: '1',
      description:
        'See and steer the ecs-reflex reflexes: rollouts, routes, services, instances. Every route is signed with AWS SigV4 (IAM); every write is audited with the caller.',
    },
    components: {
      schemas: { Problem: schema(ProblemSchema, 'output') },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
    paths,
  };
}
