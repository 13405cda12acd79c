import type { AddedTokenJson, TokenizerJson } from '../src/tokenizer-json-types';

/**
 * A hand-made tokenizer.json in Gemma's shape (SentencePiece BPE with byte fallback) over a
 * tiny vocabulary, for tests whose expected ids can be worked out by hand.
 */
export const tinyPieces = ['▁', 'a', 'b', 'c', 'ab', 'bc', 'abc', '▁a', '▁ab', 'aa', 'x', '▁x', 'é'] as const;

export function tinyVocab(): Record<string, number> {
  const vocab: Record<string, number> = { '<pad>': 0, '<eos>': 1, '<bos>': 2, '<unk>': 3 };
  for (let byte = 0; byte < 256; byte++) vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = 4 + byte;
  tinyPieces.forEach((piece, index) => (vocab[piece] = 260 + index));
  return vocab;
}

/** Id of a tiny piece. */
export function tinyId(piece: string): number {
  const id = tinyVocab()[piece];
  if (id === undefined) throw new Error(`no tiny piece ${piece}`);
  return id;
}

export function specialAdded(id: number, content: string, flags: Partial<AddedTokenJson> = {}): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...flags };
}

export function tinyTokenizerJson(overrides: Partial<TokenizerJson> & { merges?: Array<[string, string]> } = {}): TokenizerJson {
  const { merges, ...rest } = overrides;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [specialAdded(0, '<pad>'), specialAdded(1, '<eos>'), specialAdded(2, '<bos>'), specialAdded(3, '<unk>')],
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: tinyVocab(),
      merges: merges ?? [['▁', 'a'], ['a', 'b'], ['▁a', 'b'], ['b', 'c'], ['ab', 'c'], ['a', 'a'], ['▁', 'x']],
    },
    ...rest,
  };
}
