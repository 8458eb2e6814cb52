// What a request got wrong, in words a person reads at a terminal or on a page, for zod's default issues
// ("Too big: expected number to be <=100" becomes "must be at most 100"). A schema's own message
// ("an ARN", "canary weight must be an integer 1..99") wins over these: zod asks this map only for issues
// whose schema says nothing itself.
import type { core } from 'zod';
import { closest } from '#runtime/didYouMean';

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const quoted = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

const typeOfInput = (input: unknown) =>
  input === null ? 'null' : Array.isArray(input) ? 'an array' : article(typeof input);

function bound(
  issue: core.$ZodRawIssue & { origin: string; inclusive?: boolean },
  limit: unknown,
  big: boolean,
) {
  const inclusive = issue.inclusive !== false;
  const unit = { string: 'character', array: 'item', set: 'item', file: 'byte' }[issue.origin];
  if (unit) return `must have at ${big ? 'most' : 'least'} ${limit} ${unit}${Number(limit) === 1 ? '' : 's'}`;
  if (inclusive) return `must be at ${big ? 'most' : 'least'} ${limit}`;
  return `must be ${big ? 'less' : 'more'} than ${limit}`;
}

/** zod's per-parse error map: the words for an issue, or undefined to keep zod's own message. */
export function issueInWords(issue: core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      // 1.5 where an integer belongs: a number, but not a whole one.
      if (issue.expected === 'int' && typeof issue.input === 'number') return 'must be a whole number';
      return `must be ${article(issue.expected === 'int' ? 'whole number' : issue.expected)}, not ${typeOfInput(issue.input)}`;
    case 'too_big':
      return bound(issue, issue.maximum, true);
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1
        ? 'must not be empty'
        : bound(issue, issue.minimum, false);
    case 'unrecognized_keys': {
      const unknown = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(quoted).join(', ')}`;
      // The object's own fields, when zod says which object it was: the typo's fix is then in the message.
      const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
      if (!shape) return unknown;
      const valid = Object.keys(shape);
      const meant = issue.keys.length === 1 ? closest(issue.keys[0]!, valid) : undefined;
      return `${unknown}${meant ? ` (did you mean ${quoted(meant)}?)` : ''}; valid: ${valid.join(', ')}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${quoted(issue.values[0])}`
        : `must be one of ${issue.values.map(quoted).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_format':
      return issue.format === 'regex'
        ? `does not have the expected form`
        : `must be ${article(issue.format)}`;
    case 'invalid_union': {
      // A discriminated union's issue is at its discriminator (`schedule.kind`), with the values it takes.
      const { options } = issue as { options?: unknown[] };
      return options?.length
        ? `must be one of ${options.map(quoted).join(', ')}`
        : 'matches none of the forms this field takes';
    }
    default:
      return undefined;
  }
}
