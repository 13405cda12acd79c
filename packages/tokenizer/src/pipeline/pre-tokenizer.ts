import {
  fieldError,
  readArray,
  readComponentType,
  readOptionalBoolean,
  readRecord,
  readString,
} from './json-fields';
import { compilePattern, findMatches, type CompiledPattern } from './pattern';

/**
 * A compiled pre-tokenizer: splits one normalized section into the words BPE encodes
 * separately. `atTextStart` tells whether the section begins the original text (not after an
 * added token); Metaspace's `prepend_scheme: "first"` depends on it.
 */
export type PreTokenizer = (text: string, atTextStart: boolean) => string[];

export const supportedPreTokenizerTypes = ['Sequence', 'Split', 'Metaspace'] as const;

type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const splitBehaviors: readonly SplitBehavior[] = [
  'Removed',
  'Isolated',
  'MergedWithPrevious',
  'MergedWithNext',
  'Contiguous',
];

export function compilePreTokenizer(value: unknown, path = 'pre_tokenizer'): PreTokenizer | null {
  if (value === null || value === undefined) return null;
  const type = readComponentType(value, path, supportedPreTokenizerTypes);
  const record = readRecord(value, path);
  switch (type) {
    case 'Sequence': {
      const steps = readArray(record, 'pretokenizers', path).map((step, index) =>
        compilePreTokenizer(step, `${path}.pretokenizers[${index}]`),
      );
      const present = steps.filter((step): step is PreTokenizer => step !== null);
      return (text, atTextStart) => {
        let pieces = [{ text, atTextStart }];
        for (const step of present) {
          pieces = pieces.flatMap((piece) =>
            step(piece.text, piece.atTextStart).map((part, index) => ({
              text: part,
              atTextStart: piece.atTextStart && index === 0,
            })),
          );
        }
        return pieces.map((piece) => piece.text);
      };
    }
    case 'Split': {
      const pattern = compilePattern(record['pattern'], `${path}.pattern`);
      const behavior = record['behavior'];
      if (typeof behavior !== 'string' || !splitBehaviors.includes(behavior as SplitBehavior)) {
        throw fieldError(`${path}.behavior`, behavior, `one of ${splitBehaviors.join(', ')}`);
      }
      const invert = readOptionalBoolean(record, 'invert', path, false);
      return (text) => splitText(text, pattern, behavior as SplitBehavior, invert);
    }
    case 'Metaspace': {
      const replacement = readString(record, 'replacement', path);
      if ([...replacement].length !== 1) throw fieldError(`${path}.replacement`, replacement, 'a single character');
      const scheme = record['prepend_scheme'] ?? (record['add_prefix_space'] === false ? 'never' : 'always');
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') {
        throw fieldError(`${path}.prepend_scheme`, scheme, '"always", "first" or "never"');
      }
      const split = readOptionalBoolean(record, 'split', path, true);
      const replacementPattern: CompiledPattern = { kind: 'string', text: replacement };
      return (text, atTextStart) => {
        let replaced = text.replaceAll(' ', replacement);
        const prepend = scheme === 'always' || (scheme === 'first' && atTextStart);
        if (prepend && !replaced.startsWith(replacement)) replaced = replacement + replaced;
        return split ? splitText(replaced, replacementPattern, 'MergedWithNext', false) : [replaced];
      };
    }
  }
  throw new Error(`unreachable pre-tokenizer type ${type}`);
}

/** Hugging Face's `NormalizedString::split` with a pattern and a delimiter behaviour. */
export function splitText(text: string, pattern: CompiledPattern, behavior: SplitBehavior, invert: boolean): string[] {
  if (text.length === 0) return [];
  const spans: Array<{ start: number; end: number; isMatch: boolean }> = [];
  let previous = 0;
  for (const [start, end] of findMatches(text, pattern)) {
    if (previous !== start) spans.push({ start: previous, end: start, isMatch: invert });
    spans.push({ start, end, isMatch: !invert });
    previous = end;
  }
  if (previous !== text.length) spans.push({ start: previous, end: text.length, isMatch: invert });

  const merged: Array<{ start: number; end: number }> = [];
  switch (behavior) {
    case 'Removed':
      for (const span of spans) if (!span.isMatch) merged.push(span);
      break;
    case 'Isolated':
      merged.push(...spans);
      break;
    case 'MergedWithPrevious': {
      let previousWasMatch = false;
      for (const span of spans) {
        const last = merged[merged.length - 1];
        if (span.isMatch && !previousWasMatch && last !== undefined) last.end = span.end;
        else merged.push({ start: span.start, end: span.end });
        previousWasMatch = span.isMatch;
      }
      break;
    }
    case 'MergedWithNext': {
      let previousWasMatch = false;
      for (let index = spans.length - 1; index >= 0; index--) {
        const span = spans[index]!;
        const last = merged[merged.length - 1];
        if (span.isMatch && !previousWasMatch && last !== undefined) last.start = span.start;
        else merged.push({ start: span.start, end: span.end });
        previousWasMatch = span.isMatch;
      }
      merged.reverse();
      break;
    }
    case 'Contiguous': {
      let previousWasMatch: boolean | undefined;
      for (const span of spans) {
        const last = merged[merged.length - 1];
        if (span.isMatch === previousWasMatch && last !== undefined) last.end = span.end;
        else merged.push({ start: span.start, end: span.end });
        previousWasMatch = span.isMatch;
      }
      break;
    }
  }
  const pieces: string[] = [];
  for (const span of merged) if (span.end > span.start) pieces.push(text.slice(span.start, span.end));
  return pieces;
}
