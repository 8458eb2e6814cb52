// `npm run test:aws` from the outside: without credentials it skips, says why and exits 0; with
// credentials and AWS_ENDPOINT_URL it runs the contract suites on the AWS adapters against that endpoint.
// No real account here: a local stub plays the endpoint, records what reaches it and refuses it all.
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The environment of a machine with no AWS account at all: no keys, no profile files, no metadata. */
function withoutAws(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('AWS_') && key !== 'ECS_REFLEX_AWS_CONTRACTS') env[key] = value;
  return {
    ...env,
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

function runTestAws(env: NodeJS.ProcessEnv, args: string[] = []) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), 'test/contracts/aws/run.ts', ...args],
      {
        cwd: root,
        env,
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Each case starts tsx, and the second one jest as well: seconds each, more on a loaded machine. */
const SPAWNING_MS = 60_000;

describe('npm run test:aws', () => {
  it(
    'skips cleanly with the reason and what to set when there are no credentials',
    async () => {
      // Act
      const { code, output } = await runTestAws(withoutAws({ AWS_REGION: 'eu-west-1' }));

      // Assess
      expect(code).toBe(0);
      expect(output).toContain('test:aws skipped: no AWS credentials found');
      expect(output).toContain('AWS_REGION');
      expect(output).not.toContain('PASS');
    },
    SPAWNING_MS,
  );

  it(
    'runs the contracts on the AWS adapters against AWS_ENDPOINT_URL, signed with the credentials',
    async () => {
      // Arrange
      const seen: { target: string | undefined; headers: IncomingHttpHeaders }[] = [];
      const stub = createServer((request, response) => {
        seen.push({
          target: request.headers['x-amz-target'] as string | undefined,
          headers: request.headers,
        });
        request.resume();
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(
          JSON.stringify({ __type: 'AccessDeniedException', message: 'refused by the contract stub' }),
        );
      });
      await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;

      try {
        // Act
        const { code, output } = await runTestAws(
          withoutAws({
            AWS_ACCESS_KEY_ID: 'AKIDCONTRACTSTUB',
            AWS_SECRET_ACCESS_KEY: 'contract-stub-secret',
            AWS_REGION: 'eu-west-1',
            AWS_ENDPOINT_URL: endpoint,
          }),
          ['--testPathPatterns', 'ecs.awstest'],
        );

        // Assess
        expect(output).toContain(`test:aws: port contracts against ${endpoint} in eu-west-1`);
        expect(code).not.toBe(0);
        expect(output).toContain('refused by the contract stub');
        const createCluster = seen.find((s) => s.target?.endsWith('.CreateCluster'));
        expect(createCluster?.headers.authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDCONTRACTSTUB\/\d{8}\/eu-west-1\/ecs\/aws4_request/,
        );
      } finally {
        stub.close();
      }
    },
    SPAWNING_MS,
  );
});
