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
      expect(await signed.json()).toMatchObject({ name: 'web', weights: { stable: 100, canary: 0 } });
      expect(unsigned.status).toBe(403);
      expect(server.settings.routes.map((r) => r.name)).toEqual(['web']);
    } finally {
      await server.stop();
    }
  });
});
