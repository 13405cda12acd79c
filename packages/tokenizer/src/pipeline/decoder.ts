import {
  fieldError,
  readArray,
  readComponentType,
  readOptionalBoolean,
  readRecord,
  readString,
} from './json-fields';
import { compilePattern, replaceAll, type CompiledPattern } from './pattern';

/**
 * Hugging Face decoders work on the list of token strings (`decode_chain`), each step mapping the
 * list to a new one, and the result is joined. This module keeps that model, because steps
 * such as ByteFallback depend on their neighbours, but splits the chain in two: the leading
 * steps that map each token on its own (Replace) are applied once per vocabulary entry and
 * cached by the tokenizer, and only the rest (ByteFallback, Fuse, Strip, Metaspace) runs per call.
 */
export type DecoderStep =
  | { kind: 'replace'; pattern: CompiledPattern; content: string }
  | { kind: 'byte-fallback' }
  | { kind: 'fuse' }
  | { kind: 'strip'; content: string; start: number; stop: number }
  | { kind: 'metaspace'; replacement: string; stripFirst: boolean };

export const supportedDecoderTypes = ['Sequence', 'Replace', 'ByteFallback', 'Fuse', 'Strip', 'Metaspace'] as const;

export function compileDecoder(value: unknown, path = 'decoder'): DecoderStep[] {
  if (value === null || value === undefined) return [];
  const type = readComponentType(value, path, supportedDecoderTypes);
  const record = readRecord(value, path);
  switch (type) {
    case 'Sequence':
      return readArray(record, 'decoders', path).flatMap((step, index) => compileDecoder(step, `${path}.decoders[${index}]`));
    case 'Replace':
      return [{ kind: 'replace', pattern: compilePattern(record['pattern'], `${path}.pattern`), content: readString(record, 'content', path) }];
    case 'ByteFallback':
      return [{ kind: 'byte-fallback' }];
    case 'Fuse':
      return [{ kind: 'fuse' }];
    case 'Strip': {
      const content = readString(record, 'content', path);
      if ([...content].length !== 1) throw fieldError(`${path}.content`, content, 'a single character');
      const start = record['start'] ?? 0;
      const stop = record['stop'] ?? 0;
      if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) throw fieldError(`${path}.start`, start, 'a non-negative integer');
      if (typeof stop !== 'number' || !Number.isInteger(stop) || stop < 0) throw fieldError(`${path}.stop`, stop, 'a non-negative integer');
      return [{ kind: 'strip', content, start, stop }];
    }
    case 'Metaspace': {
      const replacement = readString(record, 'replacement', path);
      const scheme = record['prepend_scheme'] ?? (readOptionalBoolean(record, 'add_prefix_space', path, true) ? 'always' : 'never');
      return [{ kind: 'metaspace', replacement, stripFirst: scheme !== 'never' }];
    }
  }
  throw new Error(`unreachable decoder type ${type}`);
}

/** How many leading steps map each token independently of the others. */
export function countPerTokenSteps(steps: readonly DecoderStep[]): number {
  let count = 0;
  while (count < steps.length && steps[count]!.kind === 'replace') count++;
  return count;
}

export function applyPerTokenSteps(token: string, steps: readonly DecoderStep[], count: number): string {
  let text = token;
  for (let index = 0; index < count; index++) {
    const step = steps[index]!;
    if (step.kind === 'replace') text = replaceAll(text, step.pattern, step.content);
  }
  return text;
}

/** The byte of a `<0xNN>` token (Hugging Face accepts either case of hex digits), or -1. */
export function byteOfToken(token: string): number {
  if (token.length !== 6 || !token.startsWith('<0x') || token[5] !== '>') return -1;
  const high = hexValue(token.charCodeAt(3));
  const low = hexValue(token.charCodeAt(4));
  return high === -1 || low === -1 ? -1 : high * 16 + low;
}

function hexValue(unit: number): number {
  if (unit >= 48 && unit <= 57) return unit - 48;
  if (unit >= 65 && unit <= 70) return unit - 55;
  if (unit >= 97 && unit <= 102) return unit - 87;
  return -1;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Hugging Face's ByteFallback for one run of byte tokens: valid UTF-8 becomes its text;
 * otherwise every byte of the run becomes U+FFFD (Rust's `String::from_utf8` is all or nothing).
 * transformers.js instead replaces each maximal invalid subsequence with one U+FFFD; the two
 * agree on every run an encoder produces, which is always valid.
 */
export function decodeByteRun(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return '\uFFFD'.repeat(bytes.length);
  }
}

/** Runs the steps after the per-token ones on the token list and joins the result. */
export function runDecoderSteps(tokens: string[], steps: readonly DecoderStep[], firstStep: number): string {
  let current = tokens;
  for (let index = firstStep; index < steps.length; index++) current = runStep(current, steps[index]!);
  return current.join('');
}

function runStep(tokens: string[], step: DecoderStep): string[] {
  switch (step.kind) {
    case 'replace':
      return tokens.map((token) => replaceAll(token, step.pattern, step.content));
    case 'fuse':
      return [tokens.join('')];
    case 'byte-fallback': {
      const result: string[] = [];
      let run: number[] = [];
      for (const token of tokens) {
        const byte = byteOfToken(token);
        if (byte !== -1) {
          run.push(byte);
          continue;
        }
        if (run.length > 0) {
          result.push(decodeByteRun(Uint8Array.from(run)));
          run = [];
        }
        result.push(token);
      }
      if (run.length > 0) result.push(decodeByteRun(Uint8Array.from(run)));
      return result;
    }
    case 'strip':
      return tokens.map((token) => stripToken(token, step.content, step.start, step.stop));
    case 'metaspace':
      // As in Hugging Face, every marker of the first token is dropped, not only a leading one.
      return tokens.map((token, index) =>
        token.replaceAll(step.replacement, index === 0 && step.stripFirst ? '' : ' '),
      );
  }
}

/** Removes up to `start` leading and `stop` trailing `content` characters (Hugging Face's Strip decoder). */
function stripToken(token: string, content: string, start: number, stop: number): string {
  const characters = [...token];
  let startCut = 0;
  while (startCut < start && characters[startCut] === content) startCut++;
  let stopCut = characters.length;
  while (characters.length - stopCut < stop && stopCut > startCut && characters[stopCut - 1] === content) stopCut--;
  return characters.slice(startCut, stopCut).join('');
}
