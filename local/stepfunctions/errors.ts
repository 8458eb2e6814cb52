// The errors the Step Functions API answers with, named as the SDK names them, so code written against
// the SDK (and tests) can match on `name` the same way locally and on AWS.

export class StateMachineDoesNotExist extends Error {
  override readonly name = 'StateMachineDoesNotExist' as const;
}

export class StateMachineAlreadyExists extends Error {
  override readonly name = 'StateMachineAlreadyExists' as const;
}

export class InvalidDefinition extends Error {
  override readonly name = 'InvalidDefinition' as const;
}

/** A Task state the twin could not route to a local handler: it would otherwise call real AWS. */
export class TaskHandlerMissing extends Error {
  override readonly name = 'TaskHandlerMissing' as const;
}

export class ExecutionAlreadyExists extends Error {
  override readonly name = 'ExecutionAlreadyExists' as const;
}

export class ExecutionDoesNotExist extends Error {
  override readonly name = 'ExecutionDoesNotExist' as const;
}

export class InvalidName extends Error {
  override readonly name = 'InvalidName' as const;
}

export class InvalidExecutionInput extends Error {
  override readonly name = 'InvalidExecutionInput' as const;
}

export class InvalidOutput extends Error {
  override readonly name = 'InvalidOutput' as const;
}

export class InvalidToken extends Error {
  override readonly name = 'InvalidToken' as const;
}

/** The token's task is over: it succeeded, failed, timed out, or its execution ended. */
export class TaskTimedOut extends Error {
  override readonly name = 'TaskTimedOut' as const;
}
