// Where a rollout sends traffic, step by step. A schedule is a list of canary weights, strictly rising and
// below 100, each followed by a bake; promotion to 100 % is the step after the last one. Canary, linear
// and explicit schedules all reduce to that list, so the rest of the rollout knows only one shape.

export type Schedule =
  /** One step at `weight`, bake, then 100 %. */
  | { kind: 'canary'; weight: number; bakeSeconds: number }
  /** `stepWeight`, 2 x `stepWeight`, ... up to `maxWeight` (included), one every `intervalSeconds`. */
  | { kind: 'linear'; stepWeight: number; maxWeight: number; intervalSeconds: number }
  /** These canary weights in order, each baked for `bakeSeconds`; a final 100 is promotion itself. */
  | { kind: 'weights'; weights: number[]; bakeSeconds: number };

export interface PlannedStep {
  /** Canary percent during this step: 1..99. */
  canary: number;
  bakeSeconds: number;
}

/** Enough for any real schedule (1 % steps), and small enough for a Step Functions execution's state. */
export const MAX_STEPS = 100;
/**
 * How long a gate waits for a person: the workflow's WaitForPerson task times out after this, and a gate
 * nobody answered rolls back (infra/stateMachines/rollout.asl.json; a test keeps the two equal).
 */
export const GATE_TIMEOUT_SECONDS = 24 * 3600;
export const MIN_BAKE_SECONDS = 60;
export const MAX_BAKE_SECONDS = 24 * 3600;
/**
 * All bakes together: the workflow's own timeout is 7 days, and gates (24 h each) and re-analyses need
 * room inside it. A schedule that could only time out is refused up front.
 */
export const MAX_TOTAL_BAKE_SECONDS = 3 * 24 * 3600;

/** Why a schedule cannot run (and what would have to change), or undefined when it can. */
export function scheduleProblem(schedule: Schedule): string | undefined {
  return shapeProblem(schedule) ?? planProblem(schedule);
}

function shapeProblem(schedule: Schedule): string | undefined {
  const bake = schedule.kind === 'linear' ? schedule.intervalSeconds : schedule.bakeSeconds;
  if (!Number.isInteger(bake) || bake < MIN_BAKE_SECONDS || bake > MAX_BAKE_SECONDS)
    return `bake time must be whole seconds in ${MIN_BAKE_SECONDS}..${MAX_BAKE_SECONDS}, not ${bake}`;
  const isPercent = (w: number) => Number.isInteger(w) && w >= 1 && w <= 100;
  switch (schedule.kind) {
    case 'canary':
      if (!isPercent(schedule.weight) || schedule.weight === 100)
        return `canary weight must be an integer 1..99, not ${schedule.weight}`;
      return undefined;
    case 'linear': {
      const { stepWeight, maxWeight } = schedule;
      if (!isPercent(stepWeight)) return `linear stepWeight must be an integer 1..100, not ${stepWeight}`;
      if (!isPercent(maxWeight)) return `linear maxWeight must be an integer 1..100, not ${maxWeight}`;
      if (maxWeight < stepWeight) return `linear maxWeight ${maxWeight} is below stepWeight ${stepWeight}`;
      if (Math.ceil(maxWeight / stepWeight) > MAX_STEPS)
        return `linear schedule has more than ${MAX_STEPS} steps`;
      return undefined;
    }
    case 'weights': {
      const { weights } = schedule;
      if (weights.length === 0) return 'weights must name at least one step';
      if (weights.length > MAX_STEPS) return `weights has more than ${MAX_STEPS} steps`;
      const bad = weights.find((w) => !isPercent(w));
      if (bad !== undefined) return `weights must be integers 1..100, not ${bad}`;
      for (let i = 1; i < weights.length; i++) {
        if (weights[i]! <= weights[i - 1]!)
          return `weights must rise strictly: ${weights[i - 1]} then ${weights[i]} at step ${i}`;
      }
      return undefined;
    }
  }
}

/** A schedule that passes the shape checks can still be unable to run: no step below 100, or too long. */
function planProblem(schedule: Schedule): string | undefined {
  const steps = planSteps(schedule);
  if (steps.length === 0) return 'the schedule needs at least one step below 100 % before promotion';
  const total = steps.reduce((sum, step) => sum + step.bakeSeconds, 0);
  if (total > MAX_TOTAL_BAKE_SECONDS)
    return `the bakes add up to ${total} s, more than ${MAX_TOTAL_BAKE_SECONDS} s (the workflow would time out)`;
  return undefined;
}

/** The steps before promotion. Call only with a schedule `scheduleProblem` accepts. */
export function planSteps(schedule: Schedule): PlannedStep[] {
  switch (schedule.kind) {
    case 'canary':
      return [{ canary: schedule.weight, bakeSeconds: schedule.bakeSeconds }];
    case 'linear': {
      const steps: PlannedStep[] = [];
      for (let w = schedule.stepWeight; w < schedule.maxWeight; w += schedule.stepWeight)
        steps.push({ canary: w, bakeSeconds: schedule.intervalSeconds });
      // The last step is maxWeight itself, even when it is not a multiple of the step.
      if (schedule.maxWeight < 100)
        steps.push({ canary: schedule.maxWeight, bakeSeconds: schedule.intervalSeconds });
      return steps;
    }
    case 'weights':
      return schedule.weights
        .filter((w) => w < 100)
        .map((canary) => ({ canary, bakeSeconds: schedule.bakeSeconds }));
  }
}

/**
 * A manual gate at step i waits for a person after step i passed its analysis, before the next step (or,
 * after the last step, before promotion). Steps are 0-based.
 */
export function gatesProblem(gates: number[], stepCount: number): string | undefined {
  const bad = gates.find((g) => !Number.isInteger(g) || g < 0 || g >= stepCount);
  return bad === undefined ? undefined : `gate ${bad} is not a step of this schedule (0..${stepCount - 1})`;
}
