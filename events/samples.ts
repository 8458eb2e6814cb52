import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SAMPLES_DIR = path.join(__dirname, 'samples');

function fileName(name: string): string {
  return name.endsWith('.json') ? name : `${name}.json`;
}

/**
 * Reads `events/samples/<name>.json` (the `.json` suffix is optional). Parsed from disk on every call,
 * so each caller gets its own object and may mutate it freely.
 */
export function loadSample(name: string): unknown {
  if (name.includes('/') || name.includes('\\')) throw new Error(`sample names are bare file names: ${name}`);
  return JSON.parse(readFileSync(path.join(SAMPLES_DIR, fileName(name)), 'utf8'));
}

/** Every sample's name (without `.json`), sorted, so tests can prove each one is covered by a schema. */
export function sampleNames(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}
