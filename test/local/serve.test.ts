// npm run serve: the ops API on localhost over a running twin, signed with the local credential.
import { LOCAL_CREDENTIAL, signRequest } from '#local/api/sigv4';
import { serve } from '#local/cli/serve';

const realSetTimeout = globalThis.setTimeout;

describe('npm run serve', () => {
  it('serves the scenario routes on localhost while the twin runs, and refuses unsigned requests', async () => {
    // Prepare
    const server = await serve(['rollout-alb-promoted', '--port', '0', '--speed', '600']);
    try {
      const url = `${server.url}/routes/web`;
      const headers = await signRequest({ method: 'GET', url, headers: {} }, LOCAL_CREDENTIAL, {
        region: 'eu-west-1',
        service: 'execute-api',
      });

      // Act
      const signed = await fetch(url, { headers });
      const unsigned = await fetch(url);

      // Assess
      expect(signed.status).toBe(200);
      // The twin runs at 600 x while the request travels: on a loaded machine the rollout may already
      // have moved, so the answer is checked for the route and a whole split, not for the first weights.
      const route = (await signed.json()) as { weights: { stable: number; canary: number } };
      expect(route).toMatchObject({
        name: 'web',
        weights: { stable: expect.any(Number), canary: expect.any(Number) },
      });
      expect(route.weights.stable + route.weights.canary).toBe(100);
      expect(unsigned.status).toBe(403);
      expect(server.settings.routes.map((r) => r.name)).toEqual(['web']);
    } finally {
      await server.stop();
    }
  });

  it('keeps the clock going after a tick slower than the tick interval, one run at a time', async () => {
    // Prepare: a step of the twin's that takes 350 ms of real time, more than three tick intervals
    const server = await serve(['rollout-alb-promoted', '--port', '0', '--speed', '10']);
    try {
      const { twin } = server;
      twin.scheduler.after(
        0.5,
        'slow step',
        () => new Promise<void>((resolve) => realSetTimeout(resolve, 350)),
      );
      const runFor = twin.runFor.bind(twin);
      let inFlight = 0;
      let most = 0;
      twin.runFor = async (seconds) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          await runFor(seconds);
        } finally {
          inFlight -= 1;
        }
      };

      // Act
      await server.clock.reached(5);

      // Assess
      expect(most).toBe(1);
      expect(server.clock.failure).toBeUndefined();
      expect(twin.scheduler.elapsedSeconds()).toBeGreaterThanOrEqual(5);
    } finally {
      await server.stop();
    }
  });
});
