// What Node.js the project says it needs, held against what its dependencies declare. package.json's
// `engines` is the version the suite runs on (CI's Node); a locked dependency that declares more is named
// in README's quick start with the reason it still works, so a reader learns it there and not from npm's
// EBADENGINE warning.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const quickStart = readme.slice(
  readme.indexOf('## Quick start'),
  readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
);

/** Locked packages whose declared Node range leaves out the oldest Node the project says it runs on. */
function askingForMore(oldest: string): { name: string; version: string; node: string }[] {
  return Object.entries(lock.packages as Record<string, { version: string; engines?: { node?: string } }>)
    .filter(([key, entry]) => key !== '' && typeof entry.engines?.node === 'string')
    .filter(([, entry]) => !semver.satisfies(oldest, entry.engines!.node!))
    .map(([key, entry]) => ({
      name: key.replace(/^.*node_modules\//, ''),
      version: entry.version,
      node: entry.engines!.node!,
    }));
}

describe('the Node.js version the project declares', () => {
  const oldest = semver.minVersion(pkg.engines.node)!.version;

  it('is the one the quick start names', () => {
    const [major, minor] = oldest.split('.');
    expect(quickStart).toContain(`Node.js ${major}.${minor} or newer`);
  });

  it('is one this suite runs on', () => {
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });

  it('names in the quick start every dependency that declares a newer Node, with the range it declares', () => {
    for (const dependency of askingForMore(oldest)) {
      expect(quickStart).toContain(`\`${dependency.name}\``);
      expect(quickStart).toContain(`Node ${semver.minVersion(dependency.node)!.major}`);
    }
  });

  it('declares no more than the deployed runtime gives the functions', () => {
    const serverless = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
    const runtimeMajor = Number(/runtime: nodejs(\d+)\.x/.exec(serverless)![1]);
    expect(semver.minVersion(pkg.engines.node)!.major).toBeLessThanOrEqual(runtimeMajor);
  });
});
