import { InputError, TokenizerError, type ModelFiles } from '@gemma3n/core';
import { BpeModel } from './bpe/bpe-model';
import { applyChatTemplate, type ApplyChatTemplateOptions, type ChatMessage } from './chat/apply-chat-template';
import { expandMediaPlaceholders, readMediaSequenceLengths, type MediaSequenceLengths } from './chat/media-placeholders';
import { AddedVocabulary, readAddedTokens, type AddedToken } from './pipeline/added-vocabulary';
import {
  applyPerTokenSteps,
  byteOfToken,
  compileDecoder,
  countPerTokenSteps,
  decodeByteRun,
  runDecoderSteps,
  type DecoderStep,
} from './pipeline/decoder';
import { describeJson, fieldError, isRecord, readRecord, tokenizerJsonSource } from './pipeline/json-fields';
import { compileNormalizer } from './pipeline/normalizer';
import { compilePostProcessor, type SpecialTokenFrame } from './pipeline/post-processor';
import { compilePreTokenizer, type PreTokenizer } from './pipeline/pre-tokenizer';
import { StreamingDetokenizer, type StreamingDetokenizerOptions } from './streaming-detokenizer';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (Gemma: a leading `<bos>`). Default true, as in Hugging Face. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop tokens marked `special` in `added_tokens` (`<bos>`, `<end_of_turn>`, …). Default false. */
  skipSpecialTokens?: boolean;
}

/** A token and its id. */
export interface TokenWithId {
  content: string;
  id: number;
}

/**
 * The tokens a Gemma runtime needs by role. `bos`, `eos`, `pad` and `unk` follow
 * `tokenizer_config.json` (`bos_token`, …; Gemma 3 and 3n name `<end_of_turn>` as `eos_token`),
 * the multimodal ones its `image_token` / `boi_token` / … keys; a role the files do not define
 * (Gemma 1 has no image tokens) is `undefined`.
 */
export interface GemmaSpecialTokens {
  bos: TokenWithId | undefined;
  eos: TokenWithId | undefined;
  pad: TokenWithId | undefined;
  unk: TokenWithId | undefined;
  startOfTurn: TokenWithId | undefined;
  endOfTurn: TokenWithId | undefined;
  startOfImage: TokenWithId | undefined;
  endOfImage: TokenWithId | undefined;
  imageSoftToken: TokenWithId | undefined;
  startOfAudio: TokenWithId | undefined;
  endOfAudio: TokenWithId | undefined;
  audioSoftToken: TokenWithId | undefined;
}

export interface GemmaTokenizerExtras {
  /** Content of `chat_template.jinja`; wins over `tokenizer_config.json`'s `chat_template`. */
  chatTemplate?: string;
  /** Parsed `processor_config.json` (`image_seq_length`, `audio_seq_length`). */
  processorConfig?: unknown;
}

const configSource = 'tokenizer_config.json';

/**
 * Gemma's tokenizer with the semantics of Hugging Face `tokenizers` for a `tokenizer.json`:
 * added tokens cut out first (leftmost-longest), then normalizer, pre-tokenizer, BPE with byte
 * fallback, post-processor; decoding through the file's decoder chain.
 */
export class GemmaTokenizer {
  readonly specialTokens: GemmaSpecialTokens;
  /** One more than the largest id; ids below it without a token are holes. */
  readonly vocabularySize: number;
  /** The chat template: `chat_template.jinja`, else `tokenizer_config.json`'s, else null. */
  readonly chatTemplate: string | null;
  readonly mediaSequenceLengths: MediaSequenceLengths;
  /** The file's `added_tokens`, in file order. */
  readonly addedTokens: ReadonlyArray<TokenWithId & { special: boolean }>;
  private readonly model: BpeModel;
  private readonly addedVocabulary: AddedVocabulary;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly frame: SpecialTokenFrame;
  private readonly decoderSteps: DecoderStep[];
  private readonly perTokenStepCount: number;
  private readonly decodesBytes: boolean;
  private readonly addedByContent = new Map<string, number>();
  private readonly addedById = new Map<number, AddedToken>();
  private readonly specialIds = new Set<number>();
  /** Per-id token text after the per-token decoder steps, filled on first use. */
  private readonly decodedPieces: Array<string | undefined> = [];
  private readonly cleanUpSpaces: boolean;
  /** Whether the steps after the per-token ones start with ByteFallback, Fuse (see decodeFused). */
  private readonly fusesBytes: boolean;
  /** Per-id byte of a `<0xNN>` piece (-1 for other pieces), filled on first use. */
  private readonly byteValues: number[] = [];
  private byteRun: Uint8Array = new Uint8Array(64);
  /** The special-token variables chat templates get (`bos_token`, …), read from the config at load. */
  private readonly templateVariables: Record<string, string>;

  private constructor(tokenizerJson: unknown, tokenizerConfigJson: unknown, extras: GemmaTokenizerExtras) {
    const root = readRecord(tokenizerJson, 'the top level');
    if (root['truncation'] !== undefined && root['truncation'] !== null) {
      throw fieldError('truncation', root['truncation'], 'null (truncation is not supported; truncate the ids instead)');
    }
    // The parsed files are read here and not kept: `tokenizer_config.json` alone is 1.2 MB (with
    // its added_tokens_decoder) and `tokenizer.json` over 100 MiB once parsed.
    const config = tokenizerConfigJson === undefined || tokenizerConfigJson === null ? {} : readConfig(tokenizerConfigJson);
    const normalizer = compileNormalizer(root['normalizer']);
    this.preTokenizer = compilePreTokenizer(root['pre_tokenizer']);
    this.model = new BpeModel(root['model']);
    this.frame = compilePostProcessor(root['post_processor']);
    this.decoderSteps = compileDecoder(root['decoder']);
    this.perTokenStepCount = countPerTokenSteps(this.decoderSteps);
    this.decodesBytes = this.decoderSteps.some((step) => step.kind === 'byte-fallback');
    this.fusesBytes =
      this.decoderSteps[this.perTokenStepCount]?.kind === 'byte-fallback' &&
      this.decoderSteps[this.perTokenStepCount + 1]?.kind === 'fuse';

    const addedTokens = readAddedTokens(root['added_tokens']);
    this.addedTokens = addedTokens.map((token) => ({ content: token.content, id: token.id, special: token.special }));
    for (const token of addedTokens) {
      if (!this.addedByContent.has(token.content)) this.addedByContent.set(token.content, token.id);
      this.addedById.set(token.id, token);
      if (token.special) this.specialIds.add(token.id);
    }
    this.addedVocabulary = new AddedVocabulary(addedTokens, normalizer);
    let largestId = this.model.vocabularySize - 1;
    for (const token of addedTokens) largestId = Math.max(largestId, token.id);
    this.vocabularySize = largestId + 1;
    for (const id of [...this.frame.prefix, ...this.frame.suffix]) {
      if (this.idToToken(id) === undefined) throw fieldError('post_processor.special_tokens', id, 'ids of the vocabulary');
    }

    // Off unless the config turns it on: Gemma configs say false, and so does transformers'
    // current default (transformers.js would default to true for a config without the key).
    this.cleanUpSpaces = config['clean_up_tokenization_spaces'] === true;
    this.chatTemplate = extras.chatTemplate ?? readChatTemplate(config);
    this.templateVariables = readTemplateVariables(config);
    this.mediaSequenceLengths = readMediaSequenceLengths(extras.processorConfig);
    this.specialTokens = {
      bos: this.configToken(config, 'bos_token', '<bos>'),
      eos: this.configToken(config, 'eos_token', '<eos>'),
      pad: this.configToken(config, 'pad_token', '<pad>'),
      unk: this.configToken(config, 'unk_token', '<unk>'),
      startOfTurn: this.namedToken('<start_of_turn>'),
      endOfTurn: this.namedToken('<end_of_turn>'),
      startOfImage: this.configToken(config, 'boi_token', '<start_of_image>'),
      endOfImage: this.configToken(config, 'eoi_token', '<end_of_image>'),
      imageSoftToken: this.configToken(config, 'image_token', '<image_soft_token>'),
      startOfAudio: this.configToken(config, 'boa_token', '<start_of_audio>'),
      endOfAudio: this.configToken(config, 'eoa_token', '<end_of_audio>'),
      audioSoftToken: this.configToken(config, 'audio_token', '<audio_soft_token>'),
    };
  }

  /**
   * Builds a tokenizer from parsed (or raw JSON text) `tokenizer.json` and, optionally,
   * `tokenizer_config.json`. Throws a TokenizerError naming the key or type at fault.
   */
  static fromJSON(tokenizerJson: unknown, tokenizerConfigJson?: unknown, extras: GemmaTokenizerExtras = {}): GemmaTokenizer {
    return new GemmaTokenizer(parseIfText(tokenizerJson, tokenizerJsonSource), parseIfText(tokenizerConfigJson, configSource), extras);
  }

  /**
   * Loads from a model folder: `tokenizer.json` and `tokenizer_config.json` (required), and
   * `chat_template.jinja` and `processor_config.json` when present. A missing or unparsable
   * file is a ModelFileError from `files`.
   */
  static async load(files: ModelFiles): Promise<GemmaTokenizer> {
    const [tokenizerJson, tokenizerConfig, chatTemplate, processorConfig] = await Promise.all([
      files.readJson('tokenizer.json'),
      files.readJson('tokenizer_config.json'),
      readIfPresent(files, 'chat_template.jinja', () => files.readText('chat_template.jinja')),
      readIfPresent(files, 'processor_config.json', () => files.readJson('processor_config.json')),
    ]);
    const extras: GemmaTokenizerExtras = {};
    if (chatTemplate !== undefined) extras.chatTemplate = chatTemplate;
    if (processorConfig !== undefined) extras.processorConfig = processorConfig;
    return new GemmaTokenizer(tokenizerJson, tokenizerConfig, extras);
  }

  /** Text to ids. Added and special tokens written in the text are recognised, as in Hugging Face. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new InputError({ field: 'text', value: text, expected: 'a string' });
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const ids: number[] = addSpecialTokens ? [...this.frame.prefix] : [];
    for (const section of this.addedVocabulary.split(text)) {
      if (section.addedTokenId !== -1) {
        ids.push(section.addedTokenId);
        continue;
      }
      if (this.preTokenizer === null) {
        this.model.encodeWord(section.text, ids);
        continue;
      }
      for (const word of this.preTokenizer(section.text, section.atTextStart)) this.model.encodeWord(word, ids);
    }
    if (addSpecialTokens) ids.push(...this.frame.suffix);
    return ids;
  }

  /** Ids to text through the decoder chain. An id without a token is a TokenizerError naming it. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecialTokens = options.skipSpecialTokens ?? false;
    const text = this.fusesBytes ? this.decodeFused(ids, skipSpecialTokens) : this.decodeGeneric(ids, skipSpecialTokens);
    return this.cleanUpSpaces ? cleanUpTokenizationSpaces(text) : text;
  }

  /** The decoder chain as Hugging Face runs it: token strings through every step. */
  private decodeGeneric(ids: ArrayLike<number>, skipSpecialTokens: boolean): string {
    const pieces: string[] = [];
    for (let index = 0; index < ids.length; index++) {
      const id = ids[index]!;
      const piece = this.decodedPiece(id, index);
      if (skipSpecialTokens && this.specialIds.has(id)) continue;
      pieces.push(piece);
    }
    return runDecoderSteps(pieces, this.decoderSteps, this.perTokenStepCount);
  }

  /**
   * The same result for chains that continue with ByteFallback then Fuse (every Gemma file):
   * byte tokens go straight into a byte buffer and the other pieces into one string, without
   * the intermediate token lists; the steps after Fuse run on the fused text.
   */
  private decodeFused(ids: ArrayLike<number>, skipSpecialTokens: boolean): string {
    let text = '';
    let runLength = 0;
    for (let index = 0; index < ids.length; index++) {
      const id = ids[index]!;
      const piece = this.decodedPiece(id, index);
      if (skipSpecialTokens && this.specialIds.has(id)) continue;
      const byte = this.byteValueOf(id, piece);
      if (byte !== -1) {
        if (runLength === this.byteRun.length) this.byteRun = growBytes(this.byteRun);
        this.byteRun[runLength++] = byte;
        continue;
      }
      if (runLength > 0) {
        text += decodeByteRun(this.byteRun.subarray(0, runLength));
        runLength = 0;
      }
      text += piece;
    }
    if (runLength > 0) text += decodeByteRun(this.byteRun.subarray(0, runLength));
    return runDecoderSteps([text], this.decoderSteps, this.perTokenStepCount + 2);
  }

  private byteValueOf(id: number, piece: string): number {
    const known = this.byteValues[id];
    if (known !== undefined) return known;
    const value = byteOfToken(piece);
    this.byteValues[id] = value;
    return value;
  }

  /** The id of a token (added tokens first, then the model vocabulary), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.model.tokenToId(token);
  }

  /** The token of an id, or undefined for an id outside the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken(id);
  }

  /** Whether the id is an added token marked `special` (what `skipSpecialTokens` drops). */
  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** A decoder for ids arriving one at a time (generation); see StreamingDetokenizer. */
  createStreamingDetokenizer(options: StreamingDetokenizerOptions = {}): StreamingDetokenizer {
    return new StreamingDetokenizer(
      {
        decode: (ids, skipSpecialTokens) => this.decode(ids, { skipSpecialTokens }),
        isByteToken: (id) => this.decodesBytes && byteOfToken(this.decodedPiece(id, 0)) !== -1,
        isSpecialId: (id) => this.specialIds.has(id),
        checkId: (id) => void this.decodedPiece(id, 0),
      },
      options,
    );
  }

  /**
   * Renders the chat template (same output as transformers.js `apply_chat_template(messages, {
   * tokenize: false })`). Media items become one placeholder each; see expandMediaPlaceholders.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ApplyChatTemplateOptions = {}): string {
    if (this.chatTemplate === null) {
      throw new TokenizerError({
        source: configSource,
        message: 'no chat template: the folder has neither chat_template.jinja nor a chat_template key',
      });
    }
    return applyChatTemplate(this.chatTemplate, messages, options, this.templateVariables);
  }

  /**
   * The processor step: each image placeholder becomes `\n\n<start_of_image>` + N ×
   * `<image_soft_token>` + `<end_of_image>\n\n` and each audio placeholder the same with the audio
   * tokens, N from `processor_config.json` (Gemma 3n: 256 and 188).
   */
  expandMediaPlaceholders(prompt: string): string {
    return expandMediaPlaceholders(prompt, this.specialTokens, this.mediaSequenceLengths);
  }

  /** Chat template, media expansion and encoding without extra special tokens (the template writes `<bos>`). */
  encodeChat(messages: readonly ChatMessage[], options: ApplyChatTemplateOptions = {}): number[] {
    return this.encode(this.expandMediaPlaceholders(this.applyChatTemplate(messages, options)), { addSpecialTokens: false });
  }

  private decodedPiece(id: number, index: number): string {
    const cached = this.decodedPieces[id];
    if (cached !== undefined) return cached;
    const token = typeof id === 'number' && Number.isInteger(id) ? this.idToToken(id) : undefined;
    if (token === undefined) {
      throw new TokenizerError({
        message: `cannot decode id ${String(id)} at position ${index}: ${
          typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < this.vocabularySize
            ? 'no token has this id'
            : `ids must be integers in [0, ${this.vocabularySize})`
        }`,
        value: id,
      });
    }
    const piece = applyPerTokenSteps(token, this.decoderSteps, this.perTokenStepCount);
    this.decodedPieces[id] = piece;
    return piece;
  }

  private configToken(config: Record<string, unknown>, key: string, fallback: string): TokenWithId | undefined {
    const configured = tokenContent(config[key]);
    if (configured !== undefined) {
      const id = this.tokenToId(configured);
      if (id === undefined) {
        throw new TokenizerError({ source: configSource, message: `${key} "${configured}" is not a token of tokenizer.json`, value: configured });
      }
      return { content: configured, id };
    }
    return this.namedToken(fallback);
  }

  private namedToken(content: string): TokenWithId | undefined {
    const id = this.tokenToId(content);
    return id === undefined ? undefined : { content, id };
  }
}

function growBytes(bytes: Uint8Array): Uint8Array {
  const grown = new Uint8Array(bytes.length * 2);
  grown.set(bytes);
  return grown;
}

function parseIfText(value: unknown, source: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new TokenizerError({ source, message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, cause: error });
  }
}

function readConfig(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new TokenizerError({ source: configSource, message: `expected a JSON object, got ${describeJson(value)}`, value });
  }
  return value;
}

/** A token given as `"<bos>"` or `{"content": "<bos>", …}` in tokenizer_config.json. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value['content'] === 'string') return value['content'];
  return undefined;
}

/** The variables transformers.js passes to chat templates. */
function readTemplateVariables(config: Record<string, unknown>): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const content = tokenContent(config[key]);
    if (content !== undefined && content !== '') variables[key] = content;
  }
  return variables;
}

function readChatTemplate(config: Record<string, unknown>): string | null {
  const template = config['chat_template'];
  if (template === undefined || template === null) return null;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    // The named-template form; "default" is the one apply_chat_template uses without tools.
    const named = template.find((entry) => isRecord(entry) && entry['name'] === 'default');
    if (isRecord(named) && typeof named['template'] === 'string') return named['template'];
  }
  throw new TokenizerError({
    source: configSource,
    message: `chat_template is ${describeJson(template)}; expected a string or a list with a "default" template`,
    value: template,
  });
}

async function readIfPresent<T>(files: ModelFiles, path: string, read: () => Promise<T>): Promise<T | undefined> {
  return (await files.exists(path)) ? read() : undefined;
}

/** transformers' `clean_up_tokenization`, applied only when the config asks for it. */
function cleanUpTokenizationSpaces(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
