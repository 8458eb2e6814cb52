// `npm run test:aws`: runs the port contracts on the AWS adapters against a real account, or says clearly
// why it did not. It looks for credentials and a region the way the SDK does (environment, shared config
// and credentials files, SSO, web identity, container and instance metadata); AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> are honoured by the SDK itself. Without credentials it skips and exits 0,
// so a machine without an account (CI, a laptop offline) is not a failure.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';

const root = join(__dirname, '..', '..', '..');

async function within<T>(seconds: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why the AWS run cannot go ahead, or undefined when credentials and a region are there. */
export async function missingPrerequisite(): Promise<string | undefined> {
  try {
    await within(10, defaultProvider({ timeout: 2000, maxRetries: 0 })());
  } catch (error) {
    return `no AWS credentials found (${(error as Error).message.split('\n')[0]})`;
  }
  try {
    await new ECSClient({}).config.region();
  } catch {
    return 'no AWS region set (AWS_REGION, or region in the profile)';
  }
  return undefined;
}

async function main(): Promise<void> {
  const missing = await missingPrerequisite();
  if (missing) {
    console.log(
      [
        `test:aws skipped: ${missing}.`,
        'The contract suites run only against a real account: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and',
        'AWS_SECRET_ACCESS_KEY) and AWS_REGION, optionally AWS_ENDPOINT_URL, and run `npm run test:aws` again.',
        'See "Before you trust it with production" in the README.',
      ].join('\n'),
    );
    return;
  }
  const region = await new ECSClient({}).config.region();
  const endpoint = process.env.AWS_ENDPOINT_URL ?? 'the default AWS endpoints';
  console.log(`test:aws: port contracts against ${endpoint} in ${region}; resources are named ecsr-ct-*`);
  const jest = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), '-c', 'jest.aws.config.js', ...process.argv.slice(2)],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ECS_REFLEX_AWS_CONTRACTS: '1' } },
  );
  process.exitCode = jest.status ?? 1;
}

if (require.main === module) void main();
