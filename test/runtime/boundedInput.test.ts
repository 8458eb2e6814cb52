// Measuring and writing out input of any shape without recursion.
import fc from 'fast-check';
import { boundedJson, checkText, checkValue, TRUNCATED } from '#runtime/boundedInput';

function deep(depth: number): unknown {
  let node: unknown = 'bottom';
  for (let i = 0; i < depth; i++) node = i % 2 ? { a: node } : [node];
  return node;
}

describe('boundedJson', () => {
  it('writes what JSON.stringify writes, for JSON values within its limits', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        // Act / Assess (JSON.stringify writes -0 as 0, as does String)
        expect(boundedJson(value, { maxChars: 1_000_000, maxDepth: 10 })).toBe(JSON.stringify(value));
      }),
      { seed: 20261207, numRuns: 300 },
    );
  });

  it('writes 100,000 levels as its first few, without a RangeError', () => {
    // Act
    const text = boundedJson(deep(100_000), { maxChars: 200, maxDepth: 3 });

    // Assess
    expect(text).toBe('{"a":[{"a":"[deeper]"}]}');
  });

  it('cuts a large value at maxChars and says so', () => {
    // Act
    const text = boundedJson(
      { padding: 'x'.repeat(10 * 1024 * 1024), rest: [1, 2, 3] },
      { maxChars: 100, maxDepth: 8 },
    );

    // Assess
    expect(text).toBe(`{"padding":"${'x'.repeat(88)}${TRUNCATED}`);
  });

  it('writes what JSON has no word for as null, and a bigint as a string', () => {
    // Act / Assess
    expect(boundedJson([undefined, Number.NaN, () => 1, 10n])).toBe('[null,null,null,"10"]');
  });
});

describe('checkValue and checkText', () => {
  it('take an ordinary event', () => {
    // Prepare
    const event = { detail: { containers: [{ name: 'app', networkBindings: [{ hostPort: 1 }] }] } };

    // Act / Assess
    expect(checkValue(event)).toEqual({ ok: true });
    expect(checkText(JSON.stringify(event))).toEqual({ ok: true });
  });

  it('refuse 100,000 levels and 10 MB, as a value and as text', () => {
    // Prepare
    const text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const large = { padding: 'x'.repeat(10 * 1024 * 1024) };

    // Act / Assess
    expect(checkValue(deep(100_000))).toEqual({ ok: false, reason: 'input nested deeper than 64 levels' });
    expect(checkText(text)).toEqual({ ok: false, reason: 'input nested deeper than 64 levels' });
    expect(checkValue(large)).toMatchObject({ ok: false, reason: expect.stringContaining('larger than') });
    expect(checkText(JSON.stringify(large))).toMatchObject({ ok: false });
  });

  it('count a value exactly 64 levels deep as fine, and brackets inside strings not at all', () => {
    // Act / Assess
    expect(checkValue(deep(64))).toEqual({ ok: true });
    expect(checkValue(deep(65))).toMatchObject({ ok: false });
    expect(checkText(`${'['.repeat(64)}${']'.repeat(64)}`)).toEqual({ ok: true });
    expect(checkText(`${'['.repeat(65)}${']'.repeat(65)}`)).toMatchObject({ ok: false });
    expect(checkText(JSON.stringify({ text: `${'['.repeat(1000)}\\"{` }))).toEqual({ ok: true });
  });

  it('tell text too deep from text that is not, whatever its strings hold (property)', () => {
    // Prepare: JSON values of any nesting, with strings full of brackets, quotes and backslashes
    const text = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a') });
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, text, fc.array(tie('node')), fc.dictionary(text, tie('node'))),
    })).node;
    const depthOf = (node: unknown): number =>
      node !== null && typeof node === 'object'
        ? 1 + Math.max(0, ...Object.values(node as Record<string, unknown>).map(depthOf))
        : 0;

    // Act / Assess: a limit below, at and above each value's depth
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (node, maxDepth) => {
        const check = checkText(JSON.stringify(node), { maxChars: 1_000_000, maxDepth });
        expect(check.ok).toBe(depthOf(node) <= maxDepth);
      }),
      { numRuns: 2000 },
    );
  });
});
