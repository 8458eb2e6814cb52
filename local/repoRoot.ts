// The repository's root folder, for the files the local tools read at run time (scenarios, EventBridge
// patterns, state machine definitions, the dashboard's page). Found by walking up from this module rather
// than by a fixed number of `..`: the local commands also run from one bundled file under dist/, where
// `__dirname` is the bundle's folder, not the source file's.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'local', 'scenarios'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no ecs-reflex repository above ${from}`);
  }
}

export const repoRoot = findRepoRoot(__dirname);

/** A file of the repository, by its path from the root, as text. */
export const repoFile = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');
