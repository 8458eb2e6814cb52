import { createServer, type Socket } from 'node:net';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  CONNECTION_TIMEOUT_MS,
  createAwsClients,
  REQUEST_TIMEOUT_MS,
  resetAwsClientsForTests,
  sharedClient,
  worstCallMs,
} from '#runtime/clients';

afterEach(() => resetAwsClientsForTests());

describe('createAwsClients', () => {
  it('builds every client with adaptive retries and four attempts by default', async () => {
    // Act
    const clients = createAwsClients({ region: 'eu-central-1' });

    // Assess
    for (const client of [
      clients.ecs,
      clients.elbv2,
      clients.sns,
      clients.sqs,
      clients.autoScaling,
      clients.applicationAutoScaling,
      clients.cloudWatch,
    ]) {
      expect(await client.config.maxAttempts()).toBe(4);
      expect(client.config.retryMode).toBe('adaptive');
      expect(await client.config.retryStrategy()).toHaveProperty('mode', 'adaptive');
      expect(await client.config.region()).toBe('eu-central-1');
    }
  });

  it('takes the region from AWS_REGION when none is given', async () => {
    // Prepare
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = 'ap-southeast-2';

    try {
      // Act
      const clients = createAwsClients({ maxAttempts: 2 });

      // Assess
      expect(await clients.ecs.config.region()).toBe('ap-southeast-2');
      expect(await clients.ecs.config.maxAttempts()).toBe(2);
    } finally {
      process.env.AWS_REGION = previous;
    }
  });

  it('gives every client a connection timeout and a request timeout that throws', async () => {
    // Act
    const clients = createAwsClients({ region: 'eu-central-1' });

    // Assess
    for (const client of Object.values(clients)) {
      const handler = client.config.requestHandler as unknown as { configProvider: Promise<object> };
      expect(await handler.configProvider).toMatchObject({
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      });
    }
  });

  it('gives up on an endpoint that takes the request and never answers, instead of waiting forever', async () => {
    // Prepare: a local endpoint that reads and stays silent
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });

    try {
      // Act
      const { ecs } = createAwsClients({ maxAttempts: 1 });
      const call = ecs.send(new ListClustersCommand({}));

      // Assess
      await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      process.env = saved;
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    // Room for a loaded machine: the verdict is the error, not how fast it came (without the timeouts
    // the call never settles and this limit fails the test).
  }, 60_000);

  it('counts a call at worst as every attempt timing out, with the longest backoff between them', () => {
    // Act / Assess: 4 × (1 s + 3 s) + (1 + 2 + 4) s
    expect(worstCallMs(4)).toBe(23_000);
    expect(worstCallMs(1)).toBe(4_000);
  });

  it.each([0, 11, 2.5])('refuses %p attempts', (maxAttempts) => {
    // Act / Assess
    expect(() => createAwsClients({ maxAttempts })).toThrow(RangeError);
  });
});

describe('sharedClient', () => {
  it('returns the same client of a class on every call of a container, built with the first options', async () => {
    // Act
    const first = sharedClient(ECSClient, { maxAttempts: 3 });
    const second = sharedClient(ECSClient);

    // Assess
    expect(second).toBe(first);
    expect(await second.config.maxAttempts()).toBe(3);
  });

  it('builds one client per class', () => {
    // Act
    const ecs = sharedClient(ECSClient);
    const sqs = sharedClient(SQSClient);

    // Assess
    expect(sqs).toBeInstanceOf(SQSClient);
    expect(sqs).not.toBe(ecs);
  });

  it('builds new clients after a reset', () => {
    // Prepare
    const first = sharedClient(ECSClient);

    // Act
    resetAwsClientsForTests();

    // Assess
    expect(sharedClient(ECSClient)).not.toBe(first);
  });
});
