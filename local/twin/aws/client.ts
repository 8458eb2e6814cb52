// The twin's AWS, as the adapters reach it: real SDK v3 clients, built with the Lambda functions' own
// configuration (`awsClientConfig`), whose `send` runs the retry step that configuration built and answers
// from the model beneath it instead of the network, so the SDK's own retry strategy meets the faults.
//
// The one `send` layer every twin client shares: each attempt is recorded (the call log scenarios assert),
// faults are drawn per attempt, and a Lambda runtime's crash point is reached. The service models under
// local/twin/aws/ answer commands and know nothing of faults or recording.
import { constructStack } from '@smithy/core/client';
import { getRetryPlugin, resolveRetryConfig } from '@smithy/core/retry';
import type { Client, MetadataBearer } from '@smithy/types';
import { type Faults, InjectedFault } from '#local/twin/aws/faults';
import { reachAws, runtimeExit, runtimeGone } from '#local/twin/lambdas';
import { seededRandom } from '#local/twin/scheduler';
import type { ApiCall } from '#local/twin/world';
import { awsClientConfig } from '#runtime/clients';

/** How one command of a service is answered. */
// biome-ignore lint/suspicious/noExplicitAny: a service's commands each take and give their own shapes
export interface CommandModel<I = any, O = any> {
  /** Whether it changes anything: faults that apply before the answer is lost hit writes only. */
  write: boolean;
  /** What it acts on, as the timeline and scenario expectations name it. */
  target(input: I): string;
  /** AWS's answer: the output, or AWS's error thrown (a refusal, which changed nothing). */
  answer(input: I): O | Promise<O>;
}

/** A service as the twin answers it: its commands by name (without the `Command` suffix). */
export type ServiceModel = Record<string, CommandModel>;

const command =
  (write: boolean) =>
  <I, O>(target: (input: I) => string, answer: (input: I) => O | Promise<O>): CommandModel<I, O> => ({
    write,
    target,
    answer,
  });
export const read = command(false);
export const write = command(true);

/**
 * An error as an AWS service answers it (a modeled exception or a validation error): the SDK reads
 * `name`, `$fault` and `$metadata`, and does not retry a client fault. `name` is the one the SDK raises:
 * a modeled exception's class name, which the wire code may not be (Auto Scaling's LimitExceeded
 * arrives as LimitExceededFault, CloudWatch's ValidationError as ValidationException), and an unmodeled
 * error's code (Auto Scaling's and ELB's ValidationError).
 */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number };

  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status };
  }
}

/**
 * AWS's answer to a parameter outside its constraint, worded as its JSON APIs word it: the value where
 * AWS shows it (null for one not given), the constraint where AWS names one.
 */
export function constraintError(
  name: string,
  at: string,
  { value, constraint }: { value?: unknown; constraint?: string } = {},
): AwsServiceError {
  const shown = value === undefined ? '' : value === null ? ' null' : ` '${value}'`;
  const rule = constraint === undefined ? '' : `: ${constraint}`;
  return new AwsServiceError(
    name,
    `1 validation error detected: Value${shown} at '${at}' failed to satisfy constraint${rule}`,
  );
}

/**
 * What a command's first attempt learnt (the invocation that makes the call), kept for its retries. Keyed
 * by the arguments the retry step hands each attempt of one call: the handler context cannot carry it,
 * as a client that caches its middleware (`cacheMiddleware`) shares one context between all its calls.
 */
const callStates = new WeakMap<object, { attempts: number; by?: string }>();

/** Each attempt's round trip to AWS, drawn uniformly between the two, in virtual milliseconds. */
export interface LatencyProfile {
  minMs: number;
  maxMs: number;
}

export class TwinSendLayer {
  /** Off unless a run asks for it: every answer then comes at once, and scenarios keep their timelines. */
  private latency: { profile: LatencyProfile; draw: () => number } | undefined;
  private readonly writeListeners: (() => void)[] = [];

  constructor(private readonly options: { clock: { now(): Date }; calls: ApiCall[]; faults: Faults }) {}

  /** From now on each attempt waits its round trip (seeded, so a run repeats), in the twin's virtual time. */
  withLatency(profile: LatencyProfile, seed: number): void {
    const random = seededRandom(seed);
    this.latency = { profile, draw: () => profile.minMs + random() * (profile.maxMs - profile.minMs) };
  }

  /**
   * `listener` runs before each attempt at a write reaches its model: it sees the world as it was just
   * before a reflex changed it.
   */
  beforeEachWrite(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  /**
   * One attempt at a command. The first attempt of a call reaches the Lambda runtime's crash point (a
   * runtime that has died sends nothing); each attempt is recorded; a fault rule may fail the attempt,
   * before it reaches the model or, for a write with `applied`, after the model took the command.
   */
  async attempt(
    model: ServiceModel,
    command: string,
    input: unknown,
    attemptsOfOneCall: object,
  ): Promise<unknown> {
    const handler = model[command];
    const write = handler?.write ?? true;
    let call = callStates.get(attemptsOfOneCall);
    if (!call) {
      call = { attempts: 0, by: reachAws(command, write) };
      callStates.set(attemptsOfOneCall, call);
    } else if (runtimeGone()) {
      // The runtime died while the SDK waited to retry: the retry never leaves it.
      throw runtimeExit();
    }
    call.attempts += 1;
    // The global setTimeout is the scheduler's inside a run: the invocation waits in virtual time, and
    // other invocations run meanwhile, as they would beside a network call.
    if (this.latency) await new Promise((resolve) => setTimeout(resolve, this.latency!.draw()));
    const { clock, calls, faults } = this.options;
    const at = clock.now();
    const record = (outcome: Pick<ApiCall, 'failed' | 'answered'>, target: string) =>
      calls.push({
        at,
        api: command,
        target,
        write,
        ...outcome,
        ...(call.by ? { by: call.by } : {}),
        ...(call.attempts > 1 ? { attempt: call.attempts } : {}),
      });
    if (!handler) {
      record({ failed: 'UnknownOperationException' }, '');
      throw new AwsServiceError('UnknownOperationException', `the twin does not answer ${command}`);
    }
    const target = handler.target(input as never);
    if (write) for (const listener of this.writeListeners) listener();
    const fault = faults.draw(command, at, write);
    const error = fault && new InjectedFault(command, fault);
    if (error && !fault.applied) {
      record({ failed: error.name }, target);
      throw error;
    }
    let output: unknown;
    try {
      output = await handler.answer(input as never);
    } catch (refusal) {
      // AWS refused the command (a completed lifecycle action, a missing service): it did nothing.
      record({ failed: (refusal as Error).name }, target);
      throw refusal;
    }
    if (error) {
      record({ answered: error.name }, target);
      throw error;
    }
    record({}, target);
    return output;
  }

  /**
   * A real client of the given SDK class whose commands the model answers. `maxAttempts` as the wiring
   * asks for it (the adapters' single-attempt clients too); everything else as in Lambda.
   */
  client<C extends AnyClient>(
    Ctor: ClientClass<C>,
    model: ServiceModel,
    options: { maxAttempts?: number } = {},
  ): C {
    const built = builtClient(Ctor, options.maxAttempts);
    // This twin's client: the built one's configuration, with a retry strategy of its own (the retry
    // quota and rate limiter it keeps between calls belong to one client, as in a Lambda function).
    const client = Object.create(built) as C;
    const config = { ...built.config, retryStrategy: ownRetryStrategy(built.config as BuiltRetryConfig) };
    Object.defineProperty(client, 'config', { value: config, enumerable: true });
    // The client sends through its own retry step, as its configuration built it (adaptive, maxAttempts),
    // straight onto the model. The rest of its stack builds, signs, dresses and logs an HTTP request the
    // twin never sends: over 80 % of a call's cost here (npm run bench, section 8), and nothing the twin
    // answers depends on it.
    const stack = constructStack<object, MetadataBearer>();
    stack.use(getRetryPlugin(config as Parameters<typeof getRetryPlugin>[0]));
    stack.add(
      (_next) => async (args) => {
        const { input, command } = args as typeof args & { command: string };
        const output = await this.attempt(model, command, input, args);
        return { output: { ...(output as object), $metadata: { httpStatusCode: 200 } }, response: {} };
      },
      { step: 'deserialize', priority: 'high', name: 'twinAnswer' },
    );
    const send = stack.resolve(() => {
      throw new Error('the twin answers every command above this step');
    }, {});
    (client as { send: C['send'] }).send = ((command: { input: object }) =>
      send({
        input: command.input,
        // The SDK's command classes are named for their operation (DescribeServicesCommand); the twin
        // runs them as published, never minified.
        command: command.constructor.name.replace(/Command$/, ''),
      } as never).then((result) => result.output)) as C['send'];
    return client;
  }
}

type BuiltRetryConfig = Parameters<typeof resolveRetryConfig>[0] & { retryStrategy(): Promise<unknown> };

/**
 * A retry strategy as the built client's (its mode, attempts and base delay: DynamoDB's client backs off
 * from 25 ms where the others start at 50), made anew for one twin's client: the retry quota and rate
 * limiter belong to it alone.
 */
function ownRetryStrategy(built: BuiltRetryConfig): () => Promise<unknown> {
  let own: Promise<unknown> | undefined;
  const make = async () => {
    // The SDK class passes its base delay to resolveRetryConfig when it builds; read back from its strategy.
    const model = (await built.retryStrategy()) as { standardRetryStrategy?: { baseDelay?: number } };
    const defaultBaseDelay = model.standardRetryStrategy?.baseDelay;
    const { retryMode, maxAttempts } = built;
    return resolveRetryConfig({ retryMode, maxAttempts }, { defaultBaseDelay }).retryStrategy();
  };
  return () => {
    own ??= make();
    return own;
  };
}
// biome-ignore lint/suspicious/noExplicitAny: every SDK client has its own input, output and config types; only its configuration and send are used here
type AnyClient = Client<any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: the config is the Lambda functions' own, whatever the client
type ClientClass<C extends AnyClient> = new (config: any) => C;

/**
 * Building an SDK client resolves its whole configuration and middleware stack (~0.3 ms, thirteen
 * clients per twin, and a test file builds hundreds of twins): each client class is built once per
 * process and number of attempts, and each twin's client is made from it (`client` above).
 */
const builtClients = new Map<ClientClass<AnyClient>, Map<number | undefined, AnyClient>>();

function builtClient<C extends AnyClient>(Ctor: ClientClass<C>, maxAttempts?: number): C {
  const ofClass = builtClients.get(Ctor) ?? new Map<number | undefined, AnyClient>();
  builtClients.set(Ctor, ofClass);
  let built = ofClass.get(maxAttempts) as C | undefined;
  if (!built) {
    built = new Ctor({
      ...awsClientConfig({ maxAttempts, region: 'eu-west-1' }),
      // The twin's send never signs nor resolves an endpoint; set all the same, so that nothing in the
      // client looks for credentials or reads ~/.aws/config (file I/O in the middle of virtual time,
      // during which the scheduler sees nothing pending and moves the clock on).
      credentials: { accessKeyId: 'TWIN', secretAccessKey: 'twin' },
      authSchemePreference: [],
      ignoreConfiguredEndpointUrls: true,
      useDualstackEndpoint: false,
      useFipsEndpoint: false,
      userAgentAppId: 'ecs-reflex-twin',
      accountIdEndpointMode: 'disabled',
      endpointDiscoveryEnabled: false,
    });
    ofClass.set(maxAttempts, built);
  }
  return built;
}
