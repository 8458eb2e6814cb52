// What one AWS call costs on the twin, three ways, over the same answer: the twin's client as every
// scenario uses it (a real SDK client whose send runs its own retry step straight onto the model), the
// same real client with the SDK's whole default middleware on every send (what the twin first did), and a
// plain { send } object that hands the command to the model (no SDK at all: no retry strategy). The twin
// pays the difference to run the adapters over the SDK's own retries; this is what it comes to.
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { read, type ServiceModel, TwinSendLayer } from '#local/twin/aws/client';
import { Faults } from '#local/twin/aws/faults';
import type { ApiCall } from '#local/twin/world';
import { awsClientConfig } from '#runtime/clients';
import { buildFixture } from './fixture';
import { type Summary, summarize } from './stats';

export interface TwinClientBench {
  /** Microseconds per DescribeServices, per variant: medians over the blocks. */
  variants: { name: string; description: string; us: Summary }[];
  callsPerBlock: number;
  blocks: number;
}

const VARIANTS = {
  'twin client': "the twin as scenarios run it: the client's own retry step onto the model",
  'full SDK stack': 'the same, with every default middleware (signing too) built and run on each send',
  'plain { send }': 'the model called directly: what the twin would cost without the SDK',
} as const;
type Variant = keyof typeof VARIANTS;

export async function measureTwinClient(blocks = 15, callsPerBlock = 400): Promise<TwinClientBench> {
  // A real answer, as the twin's ECS gives it for the fixture's service, stands for the model's work.
  const { twin } = await buildFixture();
  const input = { cluster: 'prod', services: ['web'] };
  const { $metadata: _, ...answer } = await twin.clients.ecs.send(new DescribeServicesCommand(input));
  const model: ServiceModel = {
    DescribeServices: read(
      () => 'prod/web',
      () => structuredClone(answer),
    ),
  };
  const layer = () =>
    new TwinSendLayer({ clock: { now: () => new Date() }, calls: [] as ApiCall[], faults: new Faults(1) });
  const senders: Record<Variant, { send(command: DescribeServicesCommand): Promise<unknown> }> = {
    'twin client': layer().client(ECSClient, model),
    'full SDK stack': fullStack(layer(), model),
    'plain { send }': { send: async (command) => model.DescribeServices!.answer(command.input) },
  };
  const samples: Record<Variant, number[]> = {
    'twin client': [],
    'full SDK stack': [],
    'plain { send }': [],
  };
  const names = Object.keys(VARIANTS) as Variant[];
  for (let block = -2; block < blocks; block++) {
    // Interleaved blocks, the first two discarded as warm-up: a burst of load hits every variant.
    for (const name of names) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < callsPerBlock; i++) await senders[name].send(new DescribeServicesCommand(input));
      const us = Number(process.hrtime.bigint() - started) / 1e3 / callsPerBlock;
      if (block >= 0) samples[name].push(us);
    }
  }
  return {
    variants: names.map((name) => ({ name, description: VARIANTS[name], us: summarize(samples[name]) })),
    callsPerBlock,
    blocks,
  };
}

/** A real client answered by the model below its retry step, with none of the twin's trimming. */
function fullStack(layer: TwinSendLayer, model: ServiceModel): ECSClient {
  const client = new ECSClient({
    ...awsClientConfig({ region: 'eu-west-1' }),
    cacheMiddleware: false,
    credentials: { accessKeyId: 'TWIN', secretAccessKey: 'twin' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      const output = await layer.attempt(model, command, args.input, args);
      return { output: { ...(output as object), $metadata: { httpStatusCode: 200 } }, response: {} };
    },
    { step: 'deserialize', priority: 'high', name: 'twinAnswer' },
  );
  return client;
}
