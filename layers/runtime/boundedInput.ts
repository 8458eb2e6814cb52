// Input of any shape, measured and written out without recursion. JSON.stringify and zod descend one stack
// frame per level, so an event nested a few thousand levels deep throws RangeError before any reflex can
// refuse it, and Lambda retries it into the DLQ. Every handler checks its input here before parsing it, and
// logs or parks what it refuses through `boundedJson`.

import { InvalidInputError } from '#runtime/errors';

/**
 * What a handler reads at all. EventBridge events and Step Functions states are at most 256 KiB, SQS
 * messages 1 MiB: a larger input is no event of ours. No AWS event the reflexes read nests past a dozen
 * levels; 64 leaves room for overrides and rollout state.
 */
export interface InputLimits {
  maxChars: number;
  maxDepth: number;
}

export const INPUT_LIMITS: InputLimits = { maxChars: 1024 * 1024, maxDepth: 64 };

export type InputCheck = { ok: true } | { ok: false; reason: string };

const tooDeep = (maxDepth: number): InputCheck => ({
  ok: false,
  reason: `input nested deeper than ${maxDepth} levels`,
});
const tooLarge = (maxChars: number): InputCheck => ({
  ok: false,
  reason: `input larger than ${maxChars} characters of JSON`,
});

/**
 * For Step Functions steps and other inputs that are thrown back when unreadable: an input past the limits
 * is an InvalidInputError (the workflow's Catch, or Lambda's DLQ, takes it) before any parse recurses into it.
 */
export function assertBounded(value: unknown, what: string, limits: InputLimits = INPUT_LIMITS): void {
  const bounded = checkValue(value, limits);
  if (!bounded.ok)
    throw new InvalidInputError(`${what}: ${bounded.reason}`, [{ path: '(root)', message: bounded.reason }]);
}

/**
 * Depth and size (characters of its JSON, about) of a parsed value, walked with an explicit stack; stops
 * at the first limit passed, so a huge input costs no more than the limit.
 */
export function checkValue(value: unknown, limits: InputLimits = INPUT_LIMITS): InputCheck {
  const stack: [unknown, number][] = [[value, 0]];
  let size = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string') size += node.length + 2;
    else if (node === null || typeof node !== 'object') size += 8;
    else {
      if (depth >= limits.maxDepth) return tooDeep(limits.maxDepth);
      size += 2;
      if (Array.isArray(node)) {
        for (const item of node) {
          stack.push([item, depth + 1]);
          size += 1;
          if (size > limits.maxChars) break;
        }
      } else {
        for (const key in node) {
          if (!Object.hasOwn(node, key)) continue;
          stack.push([(node as Record<string, unknown>)[key], depth + 1]);
          size += key.length + 4;
          if (size > limits.maxChars) break;
        }
      }
    }
    if (size > limits.maxChars) return tooLarge(limits.maxChars);
  }
  return { ok: true };
}

/** The same for JSON text, before JSON.parse: its length, and its brackets counted outside strings. */
export function checkText(text: string, limits: InputLimits = INPUT_LIMITS): InputCheck {
  if (text.length > limits.maxChars) return tooLarge(limits.maxChars);
  // Every event is checked, and most hold a few dozen brackets: with no more opening brackets than the
  // limit, inside strings or not, nothing can nest past it, and the scan below is not needed.
  if (openingBracketsAtMost(text, limits.maxDepth)) return { ok: true };
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxDepth) return tooDeep(limits.maxDepth);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { ok: true };
}

/** Whether `text` holds at most `limit` of `{` and `[` together, found by indexOf (native, not a loop here). */
function openingBracketsAtMost(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1))
      if (++count > limit) return false;
  }
  return true;
}

export interface BoundedJsonLimits {
  /** Characters of output, before the truncation mark. */
  maxChars: number;
  /** Levels written out; deeper values become the string "[deeper]". */
  maxDepth: number;
}

/** For log lines and reasons: enough to see what came, never enough to flood a log. */
export const LOG_LIMITS: BoundedJsonLimits = { maxChars: 2048, maxDepth: 8 };

/** For a parked input: as much as one SQS message holds (the dead letter then cuts it to the byte). */
export const PARK_LIMITS: BoundedJsonLimits = { maxChars: 256 * 1024, maxDepth: INPUT_LIMITS.maxDepth };

export const TRUNCATED = '…(truncated)';

interface Frame {
  node: object;
  keys: string[] | undefined;
  index: number;
  depth: number;
}

/**
 * JSON of any value, written with an explicit stack: at most `maxDepth` levels (deeper ones become
 * "[deeper]"), and cut at `maxChars` with a mark. What JSON.stringify drops or cannot write (undefined,
 * functions, symbols, NaN) becomes null; a bigint becomes its digits as a string.
 */
export function boundedJson(value: unknown, limits: BoundedJsonLimits = LOG_LIMITS): string {
  const out: string[] = [];
  let length = 0;
  const emit = (text: string) => {
    out.push(text);
    length += text.length;
  };
  const stack: Frame[] = [];
  const write = (node: unknown, depth: number) => {
    if (typeof node === 'string')
      emit(JSON.stringify(node.length > limits.maxChars ? node.slice(0, limits.maxChars) : node));
    else if (typeof node === 'number') emit(Number.isFinite(node) ? String(node) : 'null');
    else if (typeof node === 'boolean') emit(String(node));
    else if (typeof node === 'bigint') emit(`"${node}"`);
    else if (node === null || typeof node !== 'object') emit('null');
    else if (depth >= limits.maxDepth) emit('"[deeper]"');
    else {
      const keys = Array.isArray(node) ? undefined : Object.keys(node);
      emit(keys ? '{' : '[');
      stack.push({ node, keys, index: 0, depth });
    }
  };
  write(value, 0);
  while (stack.length > 0 && length <= limits.maxChars) {
    const frame = stack[stack.length - 1]!;
    const count = frame.keys ? frame.keys.length : (frame.node as unknown[]).length;
    if (frame.index >= count) {
      emit(frame.keys ? '}' : ']');
      stack.pop();
      continue;
    }
    const i = frame.index++;
    if (i > 0) emit(',');
    if (frame.keys) {
      const key = frame.keys[i]!;
      emit(`${JSON.stringify(key.length > limits.maxChars ? key.slice(0, limits.maxChars) : key)}:`);
      write((frame.node as Record<string, unknown>)[key], frame.depth + 1);
    } else write((frame.node as unknown[])[i], frame.depth + 1);
  }
  const json = out.join('');
  return length > limits.maxChars ? `${json.slice(0, limits.maxChars)}${TRUNCATED}` : json;
}
