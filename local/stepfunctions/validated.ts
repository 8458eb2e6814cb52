// Definitions this machine has seen pass asl-validator, remembered across processes by their hash.
// Validating costs about 0.3 s a definition (asl-validator builds and compiles its JSON schema on every
// call), and every process that builds a twin validates the same two definitions: every jest file, every
// `npm start`. Only a definition that passed is remembered, so an invalid one is refused every time; the
// hash covers the validator's version, so an upgrade validates again. A cache that cannot be written is
// no cache: the definition is validated each time, as before.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const validatorPackage = require.resolve('asl-validator/package.json');
const validatorVersion = (JSON.parse(readFileSync(validatorPackage, 'utf8')) as { version: string }).version;
const cacheDir = join(dirname(dirname(validatorPackage)), '.cache', 'ecs-reflex-asl');

const entryOf = (definitionText: string): string =>
  join(cacheDir, createHash('sha256').update(`${validatorVersion}\n${definitionText}`).digest('hex'));

export const validatedBefore = (definitionText: string): boolean => existsSync(entryOf(definitionText));

export function rememberValid(definitionText: string): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(entryOf(definitionText), '');
  } catch {
    // Read-only node_modules: validate again next time.
  }
}
