import { awsClients, createAwsClients, resetAwsClientsForTests } from '#runtime/clients';

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

  it.each([0, 11, 2.5])('refuses %p attempts', (maxAttempts) => {
    // Act / Assess
    expect(() => createAwsClients({ maxAttempts })).toThrow(RangeError);
  });
});

describe('awsClients', () => {
  it('returns the same clients on every call of a container', () => {
    // Act
    const first = awsClients({ maxAttempts: 3 });
    const second = awsClients();

    // Assess
    expect(second).toBe(first);
  });

  it('builds new clients after a reset', () => {
    // Prepare
    const first = awsClients();

    // Act
    resetAwsClientsForTests();

    // Assess
    expect(awsClients()).not.toBe(first);
  });
});
