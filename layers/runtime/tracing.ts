// X-Ray tracing of the handler, only where the stage turns it on (infra/stages/<stage>.json `tracing`).
// The Powertools Tracer brings the X-Ray SDK, cls-hooked and semver (~117 KB minified) for one subsegment
// per invocation, and cls-hooked's async hooks then run on every promise the function makes. So the switch
// is made when the function is bundled: serverless.yml's esbuild `define` replaces
// process.env.ECS_REFLEX_TRACING with the stage's "true" or "false", and with "false" the minifier drops
// the branch below and the requires in it: the tracer is not in the zip at all. Unbundled (tests, the
// twin) the variable is read as it is, and is unset there.
import type { MiddlewareObj } from '@middy/core';

type Tracer = import('@aws-lambda-powertools/tracer').Tracer;

/** One per container, as Powertools expects, however many handlers a bundle builds (opsRead, opsWrite). */
let tracer: Tracer | undefined;

/** The handler's subsegment (cold start and service annotations, errors), or nothing when tracing is off. */
export function tracingMiddleware(serviceName: string): MiddlewareObj | undefined {
  if (process.env.ECS_REFLEX_TRACING === 'true') {
    // require, not import: a static import would be bundled (and run at init) whatever the stage says.
    const { Tracer } =
      require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
    const { captureLambdaHandler } =
      require('@aws-lambda-powertools/tracer/middleware') as typeof import('@aws-lambda-powertools/tracer/middleware');
    tracer ??= new Tracer({ serviceName });
    return captureLambdaHandler(tracer);
  }
  return undefined;
}
