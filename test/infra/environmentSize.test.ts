// Lambda refuses a function whose environment variables, as the JSON text of their map, pass 4 KB, and
// CloudFormation then rolls the whole stack back. Every function of every stage file stays under it, with
// each reference resolved to the name or ARN AWS would put there (in the stage's region; a 12-digit
// account). The ops functions carry the most: routes, alarm reactions, the policy, queue and log names.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const STAGES = readdirSync(path.join(ROOT, 'infra/stages'))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''));
/** Lambda's quota on a function's environment variables (not adjustable). */
const LAMBDA_ENVIRONMENT_BYTES = 4096;
const ACCOUNT = '123456789012';

interface Printed {
  service: string;
  provider: { region: string; stage: string; environment?: Record<string, unknown> };
  functions: Record<string, { environment?: Record<string, unknown> }>;
  stepFunctions: { stateMachines: Record<string, { id?: string; name: string }> };
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

/** The project's own framework, run without npx (a second each time to find it). */
const SERVERLESS = path.join(ROOT, 'node_modules', '.bin', 'serverless');

/** The service as the framework resolves it for a stage (`serverless print`), offline. */
function printed(stage: string): Printed {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecs-reflex-print-'));
  try {
    const empty = path.join(dir, 'empty-aws-config');
    writeFileSync(empty, '');
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    const out = execFileSync(process.execPath, [SERVERLESS, 'print', '--stage', stage, '--format', 'json'], {
      cwd: ROOT,
      // No account, no profile, no instance metadata: what the package test gives the framework too.
      env: {
        ...env,
        AWS_CONFIG_FILE: empty,
        AWS_SHARED_CREDENTIALS_FILE: empty,
        AWS_SDK_LOAD_CONFIG: '0',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return JSON.parse(out) as Printed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each function's variables as Lambda receives them: references resolved as AWS resolves them. */
function resolvedEnvironments(service: Printed): Record<string, Record<string, string>> {
  const { region, stage } = service.provider;
  const machines = new Map(
    Object.entries(service.stepFunctions.stateMachines).map(([key, m]) => [m.id ?? key, m.name]),
  );
  const ref = (id: string): string => {
    const pseudo: Record<string, string> = {
      'AWS::Region': region,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[id]) return pseudo[id];
    if (machines.has(id)) return `arn:aws:states:${region}:${ACCOUNT}:stateMachine:${machines.get(id)}`;
    // The framework's own resources of a function: the function (a Ref is its name) and its log group.
    const [, fn, kind] = /^(\w+?)(LambdaFunction|LogGroup)$/.exec(id) ?? [];
    const functionKey =
      fn && Object.keys(service.functions).find((key) => key.toLowerCase() === fn.toLowerCase());
    if (functionKey)
      return `${kind === 'LogGroup' ? '/aws/lambda/' : ''}${service.service}-${stage}-${functionKey}`;
    const resource = service.resources.Resources[id];
    const name = (key: string) => resolve(resource?.Properties[key]) as string;
    switch (resource?.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name('QueueName')}`;
      case 'AWS::DynamoDB::Table':
        return name('TableName');
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${ACCOUNT}:${name('TopicName')}`;
      default:
        throw new Error(`no resolution for a Ref of ${id} (${resource?.Type ?? 'not a resource'})`);
    }
  };
  const resolve = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(resolve);
    const intrinsic = value as Record<string, unknown>;
    if ('Ref' in intrinsic) return ref(intrinsic.Ref as string);
    if ('Fn::Join' in intrinsic) {
      const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    if ('Fn::Sub' in intrinsic)
      return (intrinsic['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, id: string) => ref(id));
    throw new Error(`no resolution for ${JSON.stringify(value)}`);
  };
  return Object.fromEntries(
    Object.entries(service.functions).map(([name, fn]) => [
      name,
      Object.fromEntries(
        Object.entries({ ...service.provider.environment, ...fn.environment })
          .filter(([, value]) => value !== null && value !== undefined)
          .map(([key, value]) => [key, String(resolve(value))]),
      ),
    ]),
  );
}

describe('the functions’ environment variables', () => {
  it.each(STAGES)('fit Lambda’s 4 KB in stage %s', (stage) => {
    // Act
    const sizes = Object.entries(resolvedEnvironments(printed(stage))).map(([name, variables]) => ({
      name,
      bytes: Buffer.byteLength(JSON.stringify(variables)),
    }));

    // Assess
    expect(sizes.filter((s) => s.bytes > LAMBDA_ENVIRONMENT_BYTES)).toEqual([]);
    // The ops functions carry the most; a stage that grows them should still see this test fail first.
    expect(Math.max(...sizes.map((s) => s.bytes))).toBeGreaterThan(1000);
  });
});
