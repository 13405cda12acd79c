import { describe, expect, it } from 'vitest';
import { compilePreTokenizer, splitText } from './pre-tokenizer';

describe('Split behaviours (Hugging Face SplitDelimiterBehavior)', () => {
  const space = { kind: 'string', text: ' ' } as const;
  it.each([
    ['Removed', ['a', 'b', 'c']],
    ['Isolated', ['a', ' ', 'b', ' ', ' ', 'c']],
    ['MergedWithPrevious', ['a ', 'b ', ' ', 'c']],
    ['MergedWithNext', ['a', ' b', ' ', ' c']],
    ['Contiguous', ['a', ' ', 'b', '  ', 'c']],
  ] as const)('%s', (behavior, expected) => {
    expect(splitText('a b  c', space, behavior, false)).toEqual(expected);
  });

  it('inverts the pattern and compiles regex patterns', () => {
    const split = compilePreTokenizer({ type: 'Split', pattern: { Regex: '\\d+' }, behavior: 'Isolated', invert: true })!;
    // With invert, the digits are the non-matches.
    expect(split('ab12cd345', true)).toEqual(['ab', '12', 'cd', '345']);
    const removed = compilePreTokenizer({ type: 'Split', pattern: { Regex: '\\d+' }, behavior: 'Removed', invert: false })!;
    expect(removed('ab12cd345', true)).toEqual(['ab', 'cd']);
  });

  it('Metaspace prepends per its scheme and splits before each marker', () => {
    const first = compilePreTokenizer({ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true })!;
    expect(first('hey  you', true)).toEqual(['▁hey', '▁', '▁you']);
    expect(first('hey', false)).toEqual(['hey']);
    const never = compilePreTokenizer({ type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: false })!;
    expect(never('a b', true)).toEqual(['a▁b']);
  });
});
