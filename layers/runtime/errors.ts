// Named errors. Step Functions and tests match on `name`, and minifiers mangle class names, so every
// name is a string literal set here, never `this.constructor.name`.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`configuration variable ${variable}: ${problem}`);
  }
}

/** Input that can never succeed: it is parked with its reason, never retried. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/**
 * The invocation has less time left than one record can take at worst: the record is handed back
 * untouched (a batch item failure) rather than cut off by the Lambda's timeout half-way through.
 */
export class NoTimeForRecordError extends Error {
  override readonly name = 'NoTimeForRecordError';
}

/** A FIFO batch's record not handled because an earlier record of its message group failed: it comes back. */
export class EarlierInGroupFailedError extends Error {
  override readonly name = 'EarlierInGroupFailedError';
}

/** Some decided actions could not be carried out; the input is retried, which is safe (level-triggered). */
export class ActionsFailedError extends Error {
  override readonly name = 'ActionsFailedError';
  constructor(readonly failures: { action: string; target: string; error: string }[]) {
    super(
      `${failures.length} action(s) failed: ${failures.map((f) => `${f.action} ${f.target}: ${f.error}`).join('; ')}`,
    );
  }
}

/** The route a rollout names does not exist, or holds no weighted targets to shift. */
export class RouteNotFoundError extends Error {
  override readonly name = 'RouteNotFoundError';
}

/** Weights a router cannot take (its limits, or not summing to 100): refused before any call. */
export class WeightOutOfRangeError extends Error {
  override readonly name = 'WeightOutOfRangeError';
}

/**
 * The metrics provider failed (an error status, a refused read), as opposed to answering with no data:
 * the analysis counts this as an error of the check, never as inconclusive.
 */
export class MetricsUnavailableError extends Error {
  override readonly name = 'MetricsUnavailableError';
}

/** Another rollout that is still running owns the route: one rollout per route. */
export class RouteBusyError extends Error {
  override readonly name = 'RouteBusyError';
}

/** The router did not hold the weights just written (read back after the write): retried, then rolled back. */
export class WeightsNotAppliedError extends Error {
  override readonly name = 'WeightsNotAppliedError';
}

/**
 * A service behind the route belongs to another deployment controller (CodeDeploy, an external one) or is
 * in the middle of an ECS native blue/green, linear or canary deployment, which shifts its traffic itself:
 * the rollout does not start (409 from the ops API).
 */
export class ServiceControlledElsewhereError extends Error {
  override readonly name = 'ServiceControlledElsewhereError';
}

/** A guard alarm of the rollout is in ALARM at its start: it does not start under one. */
export class GuardAlarmFiringError extends Error {
  override readonly name = 'GuardAlarmFiringError';
}

/**
 * A rollout names a route this stack does not declare, or would scale a service that is not its route's
 * stable or canary: refused before anything is written (403 from the ops API).
 */
export class RolloutNotAllowedError extends Error {
  override readonly name = 'RolloutNotAllowedError';
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/**
 * A deployment hook invocation whose claims ECS does not back (no such deployment, another service's
 * revision) or that names a service the stack's hook does not serve: answered with this error, never with
 * a hookStatus, since nothing was confirmed to answer about.
 */
export class HookClaimRefusedError extends Error {
  override readonly name = 'HookClaimRefusedError';
}
