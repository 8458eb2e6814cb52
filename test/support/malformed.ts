// Arbitraries for malformed input: a real sample, mutated at one place (a field removed, a wrong type, a
// huge string, deep nesting, an unknown field), plus text-level damage for message bodies (truncated JSON,
// 256 KB payloads, random text). Used by the hardening properties over every handler.
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Path = (string | number)[];

/** Every path into a JSON value (inner nodes and leaves), the root excluded. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  }
  return [];
}

export function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined,
    value,
  );
}

/** A copy of `value` with the node at `path` replaced (`remove` deletes it, splicing arrays). */
export function setAt(value: unknown, path: Path, replacement: unknown, remove = false): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const key = path.at(-1)!;
  if (remove) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    (parent as Record<string | number, unknown>)[key] = replacement;
  }
  return copy;
}

export const HUGE_BYTES = 256 * 1024;

/** A string of up to ~256 KB: the largest an EventBridge event or an SQS message can be. */
export const hugeString = fc
  .record({
    char: fc.constantFrom('x', 'é', '"', '\\', '\u0000', '😀'),
    bytes: fc.integer({ min: 1024, max: HUGE_BYTES }),
  })
  .map(({ char, bytes }) => char.repeat(Math.floor(bytes / Buffer.byteLength(char))));

/** Arrays or objects nested `depth` deep. */
export const deepNesting = fc
  .record({ depth: fc.integer({ min: 50, max: 2000 }), kind: fc.constantFrom('array', 'object') })
  .map(({ depth, kind }) => {
    let node: Json = 'bottom';
    for (let i = 0; i < depth; i++) node = kind === 'array' ? [node] : { a: node };
    return node;
  });

/** A JSON value of another type than `value` (so a field that wants a string never gets one). */
export function wrongTypeFor(value: unknown): fc.Arbitrary<Json> {
  const all: Record<string, fc.Arbitrary<Json>> = {
    string: fc.string({ maxLength: 20 }),
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }) as fc.Arbitrary<Json>,
    object: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 3,
    }) as fc.Arbitrary<Json>,
  };
  const own = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return fc.oneof(...Object.entries(all).flatMap(([type, arb]) => (type === own ? [] : [arb])));
}

export type Mutation =
  | { kind: 'remove'; at: number }
  | { kind: 'wrong-type'; at: number; seed: number }
  | { kind: 'huge-string'; at: number; value: string }
  | { kind: 'deep-nesting'; at: number; value: Json }
  | { kind: 'random-json'; at: number; value: Json }
  | { kind: 'unknown-field'; at: number; key: string; value: Json };

const at = fc.nat();
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('remove' as const), at }),
  fc.record({ kind: fc.constant('wrong-type' as const), at, seed: fc.nat() }),
  fc.record({ kind: fc.constant('huge-string' as const), at, value: hugeString }),
  fc.record({ kind: fc.constant('deep-nesting' as const), at, value: deepNesting }),
  fc.record({
    kind: fc.constant('random-json' as const),
    at,
    value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  }),
  fc.record({
    kind: fc.constant('unknown-field' as const),
    at,
    key: fc.string({ minLength: 1, maxLength: 12 }),
    value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  }),
);

/**
 * `seed` changed at one of `paths` (all its paths when none are given). The wrong-type value is drawn
 * deterministically from the mutation's own seed, so a counterexample replays exactly.
 */
export function mutated(
  seed: unknown,
  paths: Path[] = pathsOf(seed),
): fc.Arbitrary<{ value: unknown; how: string }> {
  return mutation.map((m) => {
    const path = paths[m.at % paths.length]!;
    const where = path.join('.');
    switch (m.kind) {
      case 'remove':
        return { value: setAt(seed, path, undefined, true), how: `removed ${where}` };
      case 'wrong-type': {
        const [value] = fc.sample(wrongTypeFor(getAt(seed, path)), { seed: m.seed, numRuns: 1 });
        return { value: setAt(seed, path, value), how: `${where} = ${JSON.stringify(value)}` };
      }
      case 'huge-string':
        return { value: setAt(seed, path, m.value), how: `${where} = <${m.value.length} chars>` };
      case 'deep-nesting':
        return { value: setAt(seed, path, m.value), how: `${where} = <deep nesting>` };
      case 'random-json':
        return { value: setAt(seed, path, m.value), how: `${where} = ${JSON.stringify(m.value)}` };
      default: {
        const node = getAt(seed, path);
        const target =
          node !== null && typeof node === 'object' && !Array.isArray(node) ? path : path.slice(0, -1);
        return {
          value: setAt(seed, [...target, m.key], m.value),
          how: `added ${[...target, m.key].join('.')} = ${JSON.stringify(m.value)}`,
        };
      }
    }
  });
}

/** Whole-value replacements: anything JSON can be, including the wrong top-level type. */
export const randomJson = fc.jsonValue({ maxDepth: 4 }).map((value) => ({ value, how: 'random JSON' }));

/** Text damage for a message body: truncated JSON, random text, a 256 KB body, a body of nothing. */
export function damagedText(seed: unknown): fc.Arbitrary<string> {
  const text = JSON.stringify(seed);
  return fc.oneof(
    fc.nat({ max: text.length - 1 }).map((n) => text.slice(0, n)),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constant(''),
    hugeString.map((huge) => `${text.slice(0, -1)},"padding":${JSON.stringify(huge)}}`),
    hugeString.map((huge) => huge),
  );
}
