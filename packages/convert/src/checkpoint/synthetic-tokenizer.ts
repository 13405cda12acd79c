import { gemma3nChatTemplate } from '@gemma3n/tokenizer';
import { parseGemma3nConfig } from '@gemma3n/core';

/**
 * A small but valid Hugging Face BPE tokenizer for the tiny-vocabulary shapes, so a random
 * checkpoint folder is complete and loads in transformers.js. It has exactly
 * `text_config.vocab_size` ids and keeps the Gemma conventions that matter to a runtime:
 * the SentencePiece-style "▁" for spaces, byte fallback (`<0x00>`…`<0xFF>`), and the special
 * tokens at the ids the config names.
 *
 * Id layout (base = vocab_size_per_layer_input):
 *   0–4          <pad> <eos> <bos> <unk> <mask>
 *   5–104        byte tokens <0x00>…<0x63>
 *   105, 106     <start_of_turn>, <end_of_turn> (the real ids, so eos [1, 106] holds)
 *   107–262      byte tokens <0x64>…<0xFF>
 *   263…         "▁", a–z, then words built by merges ("▁the", …) while ids remain,
 *                then <unusedN> fillers
 *   boi, boa     <start_of_image>, <start_of_audio> (config ids, in the base range)
 *   [base, …)    vision: <end_of_image> at eoi, <image_soft_token> at image_token_id,
 *                the rest <vision_token_N>; audio likewise (<end_of_audio>, <audio_soft_token>,
 *                <audio_token_N>)
 * Text the vocabulary cannot spell falls back to bytes, so every string round-trips.
 */
export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  chatTemplate: string;
}

/** The fewest base ids the layout needs: specials, 256 bytes, two turn markers, boi/boa. */
export const SYNTHETIC_TOKENIZER_MIN_BASE_VOCAB = 5 + 256 + 2 + 2;

const WORDS = ['▁the', '▁and', '▁is', '▁of', '▁a', '▁to', '▁in', '▁hello', '▁world', '▁model', '▁user', '▁cat', '▁dog'];

/**
 * The Gemma 3n chat template (architecture doc §5), the one @gemma3n/tokenizer renders and
 * writes into the real-vocabulary fixture, so tiny and real folders share one template.
 */
export const GEMMA3N_CHAT_TEMPLATE: string = gemma3nChatTemplate;

export function buildSyntheticTokenizerFiles(rawConfig: Record<string, unknown>): TokenizerFiles {
  const config = parseGemma3nConfig(rawConfig);
  const { vocabSize, vocabSizePerLayerInput: base } = config.text;
  if (base < SYNTHETIC_TOKENIZER_MIN_BASE_VOCAB) {
    throw new RangeError(
      `a synthetic tokenizer needs vocab_size_per_layer_input ≥ ${SYNTHETIC_TOKENIZER_MIN_BASE_VOCAB}, got ${base}`,
    );
  }
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const special = new Set<number>();
  const place = (id: number, token: string, isSpecial: boolean): void => {
    if (tokens[id] !== undefined) {
      throw new RangeError(`synthetic tokenizer: id ${id} wanted by "${token}" is already "${tokens[id]}"`);
    }
    tokens[id] = token;
    if (isSpecial) special.add(id);
  };

  ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>'].forEach((token, id) => place(id, token, true));
  place(105, '<start_of_turn>', true);
  place(106, '<end_of_turn>', true);
  for (let byte = 0; byte < 256; byte++) {
    const id = byte < 100 ? 5 + byte : 107 + (byte - 100);
    place(id, `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`, false);
  }
  place(config.boiTokenId, '<start_of_image>', true);
  place(config.boaTokenId, '<start_of_audio>', true);

  const vision = config.vision ?? { vocabOffset: base, vocabSize: 0 };
  const audio = config.audio ?? { vocabOffset: base + vision.vocabSize, vocabSize: 0 };
  place(config.eoiTokenId, '<end_of_image>', true);
  place(config.imageTokenId, '<image_soft_token>', true);
  place(config.eoaTokenId, '<end_of_audio>', true);
  place(config.audioTokenId, '<audio_soft_token>', true);
  fillRange(tokens, special, vision.vocabOffset, vision.vocabOffset + vision.vocabSize, 'vision_token');
  fillRange(tokens, special, audio.vocabOffset, audio.vocabOffset + audio.vocabSize, 'audio_token');

  // Ordinary pieces and the merges that build them, in the free base ids from 263 upward.
  const free = freeIds(tokens, 0, base);
  const merges: [string, string][] = [];
  const pieces = new Set<string>();
  const addPiece = (piece: string): boolean => {
    const id = free.shift();
    if (id === undefined) return false;
    place(id, piece, false);
    pieces.add(piece);
    return true;
  };
  for (const character of ['▁', ...'abcdefghijklmnopqrstuvwxyz']) {
    if (!addPiece(character)) break;
  }
  for (const word of WORDS) {
    const characters = [...word];
    let built = characters[0] as string;
    for (const character of characters.slice(1)) {
      const next = built + character;
      if (!pieces.has(next)) {
        if (!pieces.has(character) || !addPiece(next)) break;
        merges.push([built, character]);
      }
      built = next;
    }
  }
  for (const [index, id] of free.entries()) place(id, `<unused${index}>`, false);
  // Anything else in [base, vocab) that no embedder claims.
  fillRange(tokens, special, base, vocabSize, 'unused_hard_token');

  const vocab: Record<string, number> = {};
  for (let id = 0; id < base; id++) vocab[tokens[id] as string] = id;
  const addedTokens = [...special]
    .sort((left, right) => left - right)
    .map((id) => ({
      id,
      content: tokens[id] as string,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }));

  const tokenizerJson: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<bos>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<bos>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
      ],
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
      vocab,
      merges,
    },
  };

  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(
      addedTokens.map(({ id, ...rest }) => [String(id), rest]),
    ),
    audio_token: '<audio_soft_token>',
    boa_token: '<start_of_audio>',
    boi_token: '<start_of_image>',
    bos_token: '<bos>',
    chat_template: GEMMA3N_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eoa_token: '<end_of_audio>',
    eoi_token: '<end_of_image>',
    eos_token: '<end_of_turn>',
    extra_special_tokens: {
      audio_token: '<audio_soft_token>',
      boa_token: '<start_of_audio>',
      boi_token: '<start_of_image>',
      eoa_token: '<end_of_audio>',
      eoi_token: '<end_of_image>',
      image_token: '<image_soft_token>',
    },
    image_token: '<image_soft_token>',
    model_max_length: 32768,
    pad_token: '<pad>',
    padding_side: 'left',
    processor_class: 'Gemma3nProcessor',
    sp_model_kwargs: null,
    spaces_between_special_tokens: false,
    tokenizer_class: 'GemmaTokenizer',
    unk_token: '<unk>',
    use_default_system_prompt: false,
  };
  return { tokenizerJson, tokenizerConfig, chatTemplate: GEMMA3N_CHAT_TEMPLATE };
}

function freeIds(tokens: (string | undefined)[], start: number, end: number): number[] {
  const ids: number[] = [];
  for (let id = start; id < end; id++) if (tokens[id] === undefined) ids.push(id);
  return ids;
}

function fillRange(tokens: (string | undefined)[], special: Set<number>, start: number, end: number, stem: string): void {
  let index = 0;
  for (let id = start; id < end; id++) {
    if (tokens[id] !== undefined) continue;
    tokens[id] = `<${stem}_${index++}>`;
    special.add(id);
  }
}
