// The rollout workflow's step: the rollout ports, plus what only the step does among the rollout functions,
// lambda checks (tests before traffic), over a Lambda client of their own.
import { lambdaCheckClient, lambdaChecksOver } from '#wiring/lambdaChecks';
import { awsRolloutDeps, type RolloutDeps } from '#wiring/rollout';

export const awsRolloutStepDeps = (): RolloutDeps => awsRolloutDeps(lambdaChecksOver(lambdaCheckClient()));
