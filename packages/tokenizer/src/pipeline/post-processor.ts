import { fieldError, readArray, readComponentType, readRecord } from './json-fields';

/** The ids a post-processor puts around one encoded sequence when special tokens are added. */
export interface SpecialTokenFrame {
  prefix: number[];
  suffix: number[];
}

export const supportedPostProcessorTypes = ['TemplateProcessing', 'Sequence'] as const;

/**
 * Compiles the single-sequence template of `TemplateProcessing` (Gemma: `<bos> $A`) into the
 * ids before and after the sequence. Ids come from the template's `special_tokens` table, as in
 * Hugging Face. A `Sequence` of post-processors concatenates their frames.
 */
export function compilePostProcessor(value: unknown, path = 'post_processor'): SpecialTokenFrame {
  if (value === null || value === undefined) return { prefix: [], suffix: [] };
  const type = readComponentType(value, path, supportedPostProcessorTypes);
  const record = readRecord(value, path);
  if (type === 'Sequence') {
    const frames = readArray(record, 'processors', path).map((step, index) => compilePostProcessor(step, `${path}.processors[${index}]`));
    return {
      prefix: frames.flatMap((frame) => frame.prefix),
      suffix: frames.reverse().flatMap((frame) => frame.suffix),
    };
  }
  const specialTokens = readRecord(record['special_tokens'] ?? {}, `${path}.special_tokens`);
  const frame: SpecialTokenFrame = { prefix: [], suffix: [] };
  let seenSequence = false;
  readArray(record, 'single', path).forEach((item, index) => {
    const itemPath = `${path}.single[${index}]`;
    const piece = readRecord(item, itemPath);
    if (isRecordWithKey(piece, 'Sequence')) {
      if (seenSequence) throw fieldError(itemPath, item, 'at most one Sequence item in the single template');
      seenSequence = true;
      return;
    }
    if (!isRecordWithKey(piece, 'SpecialToken')) throw fieldError(itemPath, item, 'a {"SpecialToken": …} or {"Sequence": …} item');
    const name = readRecord(piece['SpecialToken'], `${itemPath}.SpecialToken`)['id'];
    if (typeof name !== 'string') throw fieldError(`${itemPath}.SpecialToken.id`, name, 'a token name');
    const entry = specialTokens[name];
    const ids = entry === undefined ? undefined : readRecord(entry, `${path}.special_tokens.${name}`)['ids'];
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0)) {
      throw fieldError(`${path}.special_tokens.${name}.ids`, ids, 'an array of token ids');
    }
    (seenSequence ? frame.suffix : frame.prefix).push(...(ids as number[]));
  });
  return frame;
}

function isRecordWithKey(record: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(record, key);
}
