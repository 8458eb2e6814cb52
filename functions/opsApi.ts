// The ops API behind API Gateway (HTTP API, IAM authorization on every route). Two functions share this
// file's adapter from the API Gateway event to the use case: opsRead serves the GET routes, opsWrite the
// others, each with its own role, so reading never holds a write permission.
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { handleOpsRequest } from '#app/opsApi';
import type { Access } from '#events/opsApi';
import { httpStack } from '#runtime/middleware';
import { logger } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsOpsDeps, type OpsDeps } from '#wiring/ops';

export function createOpsHandler(serves: Access[], deps: () => OpsDeps) {
  return httpStack(
    async (event: APIGatewayProxyEventV2WithIAMAuthorizer): Promise<APIGatewayProxyResultV2> => {
      const { ports, settings } = deps();
      const body =
        event.body !== undefined && event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
      return handleOpsRequest(
        {
          method: event.requestContext.http.method,
          path: event.rawPath,
          query: event.queryStringParameters ?? {},
          headers: Object.fromEntries(
            Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
          ),
          body,
          caller: event.requestContext.authorizer?.iam?.userArn,
        },
        {
          ports,
          settings: { ...settings, serves },
          clock: { now: () => new Date() },
          onUnexpected: (error) => logger.error('ops API request failed', { error }),
        },
      );
    },
  );
}

export const readHandler = createOpsHandler(['read'], builtAtColdStart(awsOpsDeps));
export const writeHandler = createOpsHandler(['write'], builtAtColdStart(awsOpsDeps));
