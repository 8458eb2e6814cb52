// The twin's Lambda runtime. Every handler the twin invokes (an EventBridge event, an SQS batch, a
// schedule, a Step Functions task) runs as one invocation of its function, so each AWS call is traced to
// the invocation that made it, and a runtime can die: before running, for a while (a scenario's
// `crashFunction`), or mid-way, after some of its AWS calls (`crashMidway`). A dead runtime takes all with
// it: its later calls never reach AWS, its log lines (the journal) are never written, the invoker sees
// Runtime.ExitError, and the next invocation starts cold, without the handler's memory.
//
// Invocations overlap (a Step Functions task runs on the library's promise chains), so AsyncLocalStorage,
// not a "current invocation" variable, carries the invocation along the handler's own promise chain. The
// scheduler runs its callbacks outside any invocation, so work a handler only sets off (an event put on
// the bus, an execution started) is not part of it; nor is a call made outside any Lambda (a person
// using the ops API).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';
import { lambdaContext } from '#local/twin/delivery';
import { functionTimeoutSeconds } from '#local/twin/wiring';
import type { Clock } from '#ports';

export interface Invocation {
  function: string;
  /** 1 for the function's first invocation in the run. */
  index: number;
  /** The `action` its event names (a Step Functions task's payload: `look`, `fail-safe`, `rollback`...). */
  action?: string;
  /** The AWS calls it made, in order (each once, however many attempts the SDK took). */
  calls: { api: string; write: boolean }[];
  /** The runtime dies once it has made this many calls (a planned crash mid-way). */
  dieAfterCalls?: number;
  /** The calls it tried after its runtime died: none of them reached AWS. */
  lost: string[];
  /** Whether the runtime died during this invocation (the invoker saw Runtime.ExitError). */
  crashed: boolean;
}

/** During the `invocation`-th invocation of `function`, the runtime dies after `afterCalls` AWS calls. */
export interface MidwayCrash {
  function: string;
  invocation: number;
  afterCalls: number;
}

// biome-ignore lint/suspicious/noExplicitAny: a handler takes its own event, as Lambda hands it over
export type Handler<E = any, R = unknown> = (event: E, context: Context) => Promise<R>;
/** A function the twin invokes, by its name: its runtime hands the handler a context of its own. */
export type TwinFunction<E = unknown, R = unknown> = ((event: E) => Promise<R>) & { functionName: string };

const running = new AsyncLocalStorage<Invocation>();

/** What Lambda reports when the runtime dies mid-invocation. */
export const runtimeExit = (): Error =>
  Object.assign(new Error('RequestId: twin Error: Runtime exited with error: signal: killed'), {
    name: 'Runtime.ExitError',
  });

/**
 * Called before every AWS call: counts it for the invocation making it and names that invocation
 * (`function` or `function:action`), or, when that invocation's runtime has died, throws instead
 * (nothing more leaves the process).
 */
export function reachAws(api: string, write: boolean): string | undefined {
  const invocation = running.getStore();
  if (!invocation) return undefined;
  if (runtimeGone()) {
    invocation.lost.push(api);
    throw runtimeExit();
  }
  invocation.calls.push({ api, write });
  return invocation.action ? `${invocation.function}:${invocation.action}` : invocation.function;
}

/**
 * True inside an invocation whose runtime has died (its crash point is reached, whether or not it has
 * tried another AWS call since): its logs and messages never leave it.
 */
export const runtimeGone = (): boolean => {
  const invocation = running.getStore();
  return invocation?.dieAfterCalls !== undefined && invocation.calls.length >= invocation.dieAfterCalls;
};

/** The function whose invocation is running here (whose log group its lines go to), if any. */
export const currentFunction = (): string | undefined => running.getStore()?.function;

export class TwinLambdas {
  readonly invocations: Invocation[] = [];
  /** Functions whose runtime dies on every invocation until then, before running. */
  readonly crashUntil = new Map<string, Date>();
  private readonly midway: MidwayCrash[] = [];
  /** Every function by name, the last made under a name standing: what Invoke and ECS's hooks reach. */
  readonly named = new Map<string, TwinFunction>();

  constructor(
    private readonly clock: Clock,
    private readonly note: (text: string) => void,
  ) {}

  crashMidway(crash: MidwayCrash): void {
    this.midway.push(crash);
  }

  /**
   * The function as Lambda runs it: `create` builds the handler the way a cold start loads the module.
   * Each execution environment runs one invocation at a time: an invocation that overlaps another (one
   * waiting on an SDK retry's backoff) gets an idle environment, or a new one, as Lambda scales out. An
   * environment whose runtime died is gone: the next invocation starts cold.
   */
  function<E, R>(name: string, create: () => Handler<E, R>): TwinFunction<E, R> {
    const idle: Handler<E, R>[] = [create()];
    let count = 0;
    const die = (invocation: Invocation, how: string): Error => {
      invocation.crashed = true;
      this.note(`${name} crashed ${how} (Runtime.ExitError)`);
      return runtimeExit();
    };
    const invoke = async (event: E): Promise<R> => {
      const deadline = this.clock.now().getTime() + functionTimeoutSeconds(name) * 1000;
      const context = lambdaContext(name, () => deadline - this.clock.now().getTime());
      count += 1;
      const action = (event as { action?: unknown } | null)?.action;
      const plan = this.midway.find((c) => c.function === name && c.invocation === count);
      const invocation: Invocation = {
        function: name,
        index: count,
        calls: [],
        lost: [],
        crashed: false,
        ...(plan ? { dieAfterCalls: plan.afterCalls } : {}),
        ...(typeof action === 'string' ? { action } : {}),
      };
      this.invocations.push(invocation);
      const handler = idle.pop() ?? create();
      const until = this.crashUntil.get(name);
      if (until && this.clock.now() < until) throw die(invocation, 'before running');
      const outcome = await running
        .run(invocation, async () => handler(event, context))
        .then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
      if (plan) {
        const lost = invocation.lost.length > 0 ? `; ${invocation.lost.join(', ')} never reached AWS` : '';
        throw die(invocation, `mid-way, after ${invocation.calls.length} AWS call(s)${lost}`);
      }
      idle.push(handler);
      if ('error' in outcome) throw outcome.error;
      return outcome.result;
    };
    const fn = Object.assign(invoke, { functionName: name });
    this.named.set(name, fn as TwinFunction);
    return fn;
  }
}
