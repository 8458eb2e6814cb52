// Ports built during Lambda's init phase rather than in the first invocation: reading the configuration
// and building the SDK clients took the first event +32 ms on top of a warm one (issue 14), and Lambda
// runs init before any event waits. Outside Lambda (tests, the twin) nothing is built at import: a module
// that only wants a handler factory must import without a configuration.
/**
 * `build`, run now when in Lambda, and its answer kept. A failure is not raised at init: the first
 * invocation calls `build` again and meets the same error there, where it was always reported (the
 * event is retried, then kept in the function's dead-letter queue).
 */
export function builtAtColdStart<T>(build: () => T): () => T {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME === undefined) return build;
  try {
    const built = build();
    return () => built;
  } catch {
    return build;
  }
}
