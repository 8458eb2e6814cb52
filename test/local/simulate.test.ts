// `npm run simulate` as a user runs it: the timeline on stdout, JSON with --json, exit code 1 when an
// expectation fails.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '#local/cli/simulate';
import { repoRoot } from '#local/scenario/runner';

function captureStdout() {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join(''), restore: () => spy.mockRestore() };
}

describe('npm run simulate', () => {
  it('prints a readable timeline of events, decisions and actions with virtual time', async () => {
    // Prepare
    const out = captureStdout();

    // Act
    const code = await simulate(['demo']);
    out.restore();

    // Assess
    expect(code).toBe(0);
    expect(out.text()).toMatch(/00:14:1\d {2}action {2}break-crash-loop web: 3 failures/);
    expect(out.text()).toMatch(/event {3}task \w+ family:report STOPPED/);
    expect(out.text()).toMatch(/scenario demo: 7\/7 expectations met/);
  });

  it('prints one JSON document with --json', async () => {
    // Prepare
    const out = captureStdout();

    // Act
    const code = await simulate(['demo', '--json']);
    out.restore();

    // Assess
    const doc = JSON.parse(out.text());
    expect(code).toBe(0);
    expect(doc).toMatchObject({ name: 'demo', passed: true });
    expect(doc.deliveredEvents.length).toBeGreaterThan(5);
    expect(doc.journal).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'break-crash-loop' })]),
    );
    expect(doc.expectations.every((e: { passed: boolean }) => e.passed)).toBe(true);
  });

  it('exits 1 when an expectation fails', async () => {
    // Prepare: the demo, expecting two rollbacks where there is one
    const scenario = JSON.parse(readFileSync(join(repoRoot, 'local/scenarios/demo.json'), 'utf8'));
    scenario.expect = [{ action: 'break-crash-loop', outcome: 'done', count: 2 }];
    const path = join(mkdtempSync(join(tmpdir(), 'scenario-')), 'wrong.json');
    writeFileSync(path, JSON.stringify(scenario));
    const out = captureStdout();

    // Act
    const code = await simulate([path]);
    out.restore();

    // Assess
    expect(code).toBe(1);
    expect(out.text()).toContain('FAIL exactly 2 break-crash-loop [done] (actual: 1)');
  });

  it('rejects a scenario file that does not follow the format, naming the field', async () => {
    // Prepare
    const path = join(mkdtempSync(join(tmpdir(), 'scenario-')), 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        name: 'bad',
        description: 'x',
        duration: '5 fortnights',
        world: { clusters: [], taskDefinitions: [] },
        config: { clusters: ['prod'] },
      }),
    );

    // Act
    const attempt = simulate([path]);

    // Assess
    await expect(attempt).rejects.toThrow(/duration: not a duration/);
  });
});
