// npm run serve: the ops API on localhost over a running twin, signed with the local credential.
import { LOCAL_CREDENTIAL, signRequest } from '#local/api/sigv4';
import { serve } from '#local/cli/serve';

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
});
