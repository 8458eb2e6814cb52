// README's JSON examples are inputs the project takes: each block is read with the schema that takes it (a
// rollout request, tests before traffic, the deployment hook's settings, ECS's native deployment settings
// as the twin's UpdateService checks them, alarm reactions), so an example that no longer parses fails
// here. The worked examples from App Mesh are also held to one another: the Lattice, ALB and native
// examples must say what the App Mesh request says, in their own terms.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import { ReactionsSchema } from '#domain/alarmReactions';
import type { HookSettings } from '#domain/deploymentHook';
import { checksBudgetProblem } from '#domain/trafficChecks';
import { HookSettingsSchema } from '#events/deploymentHook';
import { type RolloutSpec, RolloutSpecSchema, TrafficCheckListSchema } from '#events/rollout';
import { nativeSettingsFrom } from '#local/twin/aws/ecs';

const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

interface Block {
  line: number;
  heading: string;
  // biome-ignore lint/suspicious/noExplicitAny: an example is read as JSON, then given to its schema
  value: any;
}

/** Every ```json and ```jsonc block, with the heading it sits under. */
function jsonBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^#{2,4} /.test(lines[i]!)) heading = lines[i]!.replace(/^#+ /, '');
    const fence = /^```(json|jsonc)$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    let body = lines.slice(i + 1, end).join('\n');
    // jsonc: a comment starts at `//` after a space (a URL's `://` is not one).
    if (fence[1] === 'jsonc') body = body.replace(/(^|\s)\/\/.*$/gm, '');
    // A fragment (`"key": …`) is one member of an object.
    if (body.trimStart().startsWith('"')) body = `{${body}}`;
    blocks.push({ line: i + 1, heading, value: JSON.parse(body) });
    i = end;
  }
  return blocks;
}

const problemsOf = (result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) => (result.success ? [] : result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

/** ECS's native deployment settings, as the twin's UpdateService takes them (it models ECS's checks). */
function nativeProblems(input: Pick<UpdateServiceCommandInput, 'deploymentConfiguration' | 'loadBalancers'>) {
  const targetGroups = new Map(
    (input.loadBalancers ?? []).flatMap((lb) =>
      [lb.targetGroupArn, lb.advancedConfiguration?.alternateTargetGroupArn].map((arn) => [arn, {}]),
    ),
  );
  const strategy = input.deploymentConfiguration?.strategy ?? 'BLUE_GREEN';
  try {
    nativeSettingsFrom(input, { deploymentController: 'ECS', strategy } as never, undefined, {
      targetGroups,
    } as never);
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/** The hook's settings of each lifecycle hook, parsed. */
const hookSettingsOf = (hooks: { hookDetails?: { ecsReflex?: unknown } }[]) =>
  hooks.map((hook) => HookSettingsSchema.safeParse(hook.hookDetails?.ecsReflex ?? {}));

type Kind =
  | 'rollout request'
  | 'tests before traffic'
  | 'lifecycle hooks'
  | 'service'
  | 'alarm reactions'
  | 'IAM policy';

/** What a block is, and what its schema says of it. */
function judge(value: Block['value']): { kind: Kind; problems: string[] } | undefined {
  if (Array.isArray(value) && value.every((item) => item?.alarm && item?.action))
    return { kind: 'alarm reactions', problems: problemsOf(ReactionsSchema.safeParse(value)) };
  if (value?.Version && value?.Statement) return { kind: 'IAM policy', problems: [] };
  if (value?.route && value?.schedule)
    return { kind: 'rollout request', problems: problemsOf(RolloutSpecSchema.safeParse(value)) };
  if (value?.beforeTraffic) {
    const parsed = TrafficCheckListSchema.safeParse(value.beforeTraffic);
    const budget = parsed.success ? checksBudgetProblem(parsed.data) : undefined;
    return { kind: 'tests before traffic', problems: [...problemsOf(parsed), ...(budget ? [budget] : [])] };
  }
  if (value?.lifecycleHooks)
    return {
      kind: 'lifecycle hooks',
      problems: [
        ...nativeProblems({
          deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5, ...value },
        }),
        ...hookSettingsOf(value.lifecycleHooks).flatMap(problemsOf),
      ],
    };
  if (value?.deploymentConfiguration)
    return {
      kind: 'service',
      problems: [
        ...nativeProblems(value),
        ...hookSettingsOf(value.deploymentConfiguration.lifecycleHooks ?? []).flatMap(problemsOf),
      ],
    };
  return undefined;
}

const blocks = jsonBlocks(readme);

describe("README's JSON examples", () => {
  // Named by heading and place under it, not by line: other sections' edits do not rename the tests.
  const named = blocks.map((block) => {
    const under = blocks.filter((b) => b.heading === block.heading);
    return [`${block.heading}, example ${under.indexOf(block) + 1} of ${under.length}`, block] as const;
  });

  it.each(named)('%s is an input the project takes, and takes as it is', (_, block) => {
    const judged = judge(block.value);
    expect(judged && { kind: judged.kind, problems: judged.problems }).toEqual({
      kind: expect.any(String),
      problems: [],
    });
  });

  it('tells a broken example from a good one', () => {
    const [request] = blocks.filter((b) => b.value?.route?.router === 'appmesh');
    expect(judge({ ...request!.value, schedule: { kind: 'linear', stepWeight: 20 } })?.problems).not.toEqual(
      [],
    );
    const [service] = blocks.filter((b) => b.value?.deploymentConfiguration);
    const broken = structuredClone(service!.value);
    broken.deploymentConfiguration.lifecycleHooks[0].hookDetails.ecsReflex.checks[0].maxx = 0.01;
    expect(judge(broken)?.problems).toEqual([expect.stringContaining('maxx')]);
    broken.deploymentConfiguration.lifecycleHooks[0].lifecycleStages = ['BAKE'];
    expect(judge(broken)?.problems[0]).toMatch(/lifecycleStages/);
  });
});

describe('from App Mesh to what comes next: the worked examples say the same', () => {
  const requests = blocks
    .filter((b) => b.value?.route && b.value?.schedule)
    .map((b) => RolloutSpecSchema.parse(b.value));
  const on = (router: string) => {
    const found = requests.filter((r) => r.route.router === router);
    expect(found.length).toBeGreaterThan(0);
    return found[0]!;
  };
  const appMesh = on('appmesh');
  /** What a request says beyond its route and metric sources. */
  const sayings = ({ route: _route, analysis, ...rest }: RolloutSpec) => ({
    ...rest,
    analysis: {
      ...analysis,
      checks: analysis.checks.map((check) => {
        const { source: _source, ...rest } = check as typeof check & { source?: unknown };
        return rest;
      }),
    },
  });

  it.each(['lattice', 'alb'])(
    'the %s request is the App Mesh one but for its route and sources',
    (router) => {
      expect(sayings(on(router))).toEqual(sayings(appMesh));
    },
  );

  it("the native deployment's hook settings carry the same checks, limits, gate, guards and tests", () => {
    const [service] = blocks.filter((b) => b.value?.deploymentConfiguration?.lifecycleHooks);
    const config = service!.value.deploymentConfiguration;
    const settings: HookSettings = HookSettingsSchema.parse(config.lifecycleHooks[0].hookDetails.ecsReflex);
    const { analysis, schedule } = appMesh;

    expect(settings.checks).toEqual(sayings(appMesh).analysis.checks);
    expect(settings.limits).toMatchObject({
      intervalSeconds: analysis.intervalSeconds,
      failureLimit: analysis.failureLimit,
      inconclusiveLimit: analysis.inconclusiveLimit,
      errorLimit: analysis.errorLimit,
    });
    expect(settings.guardAlarms).toEqual(appMesh.guardAlarms);
    // gates: [0] holds the first step; the hook's gate at the production shift holds its first step.
    expect(appMesh.gates).toEqual([0]);
    expect(settings.gates.map((g) => g.stage)).toEqual(['PRODUCTION_TRAFFIC_SHIFT']);
    // The same tests, reached through the ALB's test listener instead of a host of the new version's own.
    const withoutUrl = (checks: readonly object[]) =>
      checks.map((check) => {
        const { url: _url, ...rest } = check as { url?: string };
        return rest;
      });
    expect(settings.tests.map((t) => t.stage)).toEqual(['POST_TEST_TRAFFIC_SHIFT']);
    expect(withoutUrl(settings.tests[0]!.checks)).toEqual(withoutUrl(appMesh.beforeTraffic));
    expect(config.lifecycleHooks[0].lifecycleStages).toEqual(
      expect.arrayContaining(['POST_TEST_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT']),
    );
    // linear 20 % every 180 s: ECS's steps of 20 % baked 3 minutes.
    expect(schedule).toMatchObject({ kind: 'linear', stepWeight: 20, intervalSeconds: 180 });
    expect(config).toMatchObject({
      strategy: 'LINEAR',
      linearConfiguration: { stepPercent: 20, stepBakeTimeInMinutes: 3 },
    });
  });
});
