import {
  type Backend,
  FetchModelFiles,
  type Gemma3nConfig,
  InputError,
  type ModelFiles,
  resolveBackend,
  type SessionOptions,
} from '@gemma3n/core';
import {
  ChatSession,
  checkMediaCounts,
  type ConversationMessage,
  type DecoderRuntime,
  type DtypeChoice,
  type GenerationDefaults,
  type GenerationDelta,
  type GenerationResult,
  type GenerationStream,
  loadDecoderRuntime,
  MediaEncoders,
  type PleOffloadChoice,
  type PreparedMedia,
  streamTokens,
  type TokenTextDecoder,
} from '@gemma3n/decoder';
import {
  checkMessages,
  type ChatMessage,
  type Gemma3nGenerationOptions,
  type GenerateRequest,
  promptOf,
  renderConversation,
} from './generate-request';
import type { ContentPart, Gemma3nWarning } from './media-inputs';
import { MediaPipeline } from './media-pipeline';
import { browserMediaLoaders, type MediaLoaders, MediaPreprocessor, type MediaPreprocessingOptions } from './media-preprocessor';
import { readGenerationDefaults } from './generation-config';
import type { PromptTokenizer } from './prompt-tokenizer';
import { loadPromptTokenizer } from './tokenizer-adapter';

export interface CreateGemma3nParams {
  /** The engine; when omitted, the shared registry decides (import a backend's `register` entry). */
  backend?: Backend;
  /** The model folder. */
  files: ModelFiles;
  /** Weight format of the text sessions, e.g. `'q4'` or `{ embed_tokens: 'q8', decoder_model_merged: 'q4' }`. */
  dtype?: DtypeChoice;
  sessionOptions?: SessionOptions;
  /** A tokenizer to use instead of the folder's tokenizer.json. */
  tokenizer?: PromptTokenizer;
  /** Longest piece a prompt is prefilled in (default 512); bounds attention memory on long prompts. */
  prefillChunkSize?: number;
  /**
   * Read the per-layer embedding table per token from `onnx/embed_tokens_per_layer{suffix}.safetensors`
   * (with `embed_tokens_text{suffix}.onnx`; `gemma3n offload-ple` makes them) instead of holding
   * it in the embed session. `'auto'` (default): when both files are there and the table is at
   * least 64 MiB; `true`: require them (a ModelFileError says how to make them); `false`: never.
   */
  pleOffload?: PleOffloadChoice;
  /** How images and audio files are read (the Node entry passes sharp and file reading). */
  mediaLoaders?: MediaLoaders;
  /** Preprocessing overrides on top of preprocessor_config.json, e.g. `{ image: { resample: 'bilinear' } }`. */
  preprocessing?: MediaPreprocessingOptions;
}

export type Gemma3nLoadOptions = Omit<CreateGemma3nParams, 'files'> & {
  /** Passed to FetchModelFiles when loading from a URL. */
  fetch?: typeof globalThis.fetch;
  headers?: Record<string, string>;
};

/** Explicit injection: everything the model needs is passed in. */
export async function createGemma3n(params: CreateGemma3nParams): Promise<Gemma3n> {
  if (params === null || typeof params !== 'object' || params.files === undefined) {
    throw new InputError({ field: 'files', value: params?.files, expected: 'a ModelFiles (NodeDirectoryModelFiles, FetchModelFiles, …)' });
  }
  const backend = params.backend ?? (await resolveBackend());
  // Sessions first, tokenizer second: onnxruntime's weight prepacking briefly holds a weight
  // twice while a session is created, and the tokenizer's ~160 MiB (262k-token vocabulary) on
  // top of that transient raised the peak RSS of an E2B load by about that much (measured).
  const loaded = await loadDecoderRuntime({
    files: params.files,
    backend,
    dtype: params.dtype,
    sessionOptions: params.sessionOptions,
    prefillChunkSize: params.prefillChunkSize,
    pleOffload: params.pleOffload,
  });
  let tokenizer: PromptTokenizer;
  try {
    tokenizer = params.tokenizer ?? (await loadPromptTokenizer(params.files));
  } catch (error) {
    await loaded.runtime.release();
    throw error;
  }
  const defaults = await readGenerationDefaults(params.files, loaded.config);
  // The encoders open on the first prompt with media, so text-only use loads two files.
  const encoders = new MediaEncoders({
    files: params.files,
    backend,
    config: loaded.config,
    dtype: params.dtype,
    sessionOptions: params.sessionOptions,
  });
  const loaders = params.mediaLoaders ?? browserMediaLoaders;
  let preprocessor: Promise<MediaPreprocessor> | undefined;
  const loadPreprocessor = () => {
    preprocessor ??= MediaPreprocessor.load(params.files, loaders, params.preprocessing);
    preprocessor.catch(() => (preprocessor = undefined));
    return preprocessor;
  };
  return new Gemma3n({
    runtime: loaded.runtime,
    config: loaded.config,
    tokenizer,
    defaults,
    backend,
    files: params.files,
    encoders,
    preprocessor: loadPreprocessor,
  });
}

/** Turns a URL string into FetchModelFiles; the Node entry also accepts directories. */
export function modelFilesFromSource(source: string | ModelFiles, options: Gemma3nLoadOptions = {}): ModelFiles {
  if (typeof source !== 'string') return source;
  if (/^https?:\/\//i.test(source)) return new FetchModelFiles({ baseUrl: source, fetch: options.fetch, headers: options.headers });
  throw new InputError({
    field: 'source',
    value: source,
    expected:
      'an http(s) URL or a ModelFiles; to load a local directory in Node, import { Gemma3n } from "@gemma3n/gemma3n/node"',
  });
}

interface Gemma3nParts {
  runtime: DecoderRuntime;
  config: Gemma3nConfig;
  tokenizer: PromptTokenizer;
  defaults: GenerationDefaults;
  backend: Backend;
  files: ModelFiles;
  encoders: MediaEncoders;
  preprocessor: () => Promise<MediaPreprocessor>;
}

/**
 * Final text, ids and timings of one `generate` call. `stats.visionEncoderMs` /
 * `stats.audioEncoderMs` are set when the prompt's images / audio were encoded; `warnings`
 * lists what was used but not exactly as given (also reported through `onWarning`).
 */
export type Gemma3nResult = GenerationResult & { warnings: Gemma3nWarning[] };

/** Deltas as they come, and the whole result once the run ends. Iterate it once. */
export interface Gemma3nStream extends AsyncIterable<GenerationDelta> {
  readonly result: Promise<Gemma3nResult>;
}

/** A loaded Gemma 3n model: text generation, streaming and chat. */
export class Gemma3n {
  readonly config: Gemma3nConfig;
  readonly tokenizer: PromptTokenizer;
  /** Defaults from generation_config.json (stop tokens, sampling). */
  readonly defaults: GenerationDefaults;
  readonly backend: Backend;
  readonly files: ModelFiles;
  /** The decoder runtime, for callers that drive the cache themselves. */
  readonly runtime: DecoderRuntime;
  /** The vision and audio encoders, opened on first use. */
  readonly encoders: MediaEncoders;
  private readonly textDecoder: TokenTextDecoder;
  private readonly loadPreprocessor: () => Promise<MediaPreprocessor>;
  private audioPadding: Promise<Float32Array> | undefined;

  constructor(parts: Gemma3nParts) {
    this.runtime = parts.runtime;
    this.encoders = parts.encoders;
    this.loadPreprocessor = parts.preprocessor;
    this.config = parts.config;
    this.tokenizer = parts.tokenizer;
    this.defaults = parts.defaults;
    this.backend = parts.backend;
    this.files = parts.files;
    this.textDecoder = textDecoderOf(parts.tokenizer);
  }

  /**
   * Loads a model folder from a URL (or any ModelFiles). The backend is `options.backend`, or
   * the best one registered (`import '@gemma3n/backend-node/register'`).
   */
  static async load(source: string | ModelFiles, options: Gemma3nLoadOptions = {}): Promise<Gemma3n> {
    return createGemma3n({ ...options, files: modelFilesFromSource(source, options) });
  }

  /** Generates to the end. */
  async generate(request: GenerateRequest): Promise<Gemma3nResult> {
    const stream = this.stream(request);
    for await (const _delta of stream) {
      // Driving the loop.
    }
    return stream.result;
  }

  /**
   * Streams `{ tokenId, text }` deltas; `.result` resolves with the whole result. Images and
   * audio in the messages are read, preprocessed and encoded when the stream starts.
   */
  stream(request: GenerateRequest): Gemma3nStream {
    const { promptIds, options, messages } = promptOf(request, this.tokenizer);
    this.checkIds(promptIds);
    const { onWarning, ...generationOptions } = options;
    const warnings: Gemma3nWarning[] = [];
    const media = messages === undefined ? undefined : this.mediaPipeline().turnMedia(messages, collectWarning(warnings, onWarning));
    let prepare: (() => Promise<PreparedMedia>) | undefined;
    // Checked now, before any image is read: a miscounted prompt (placeholders written as text
    // or ids, more or fewer than the media) fails at once.
    checkMediaCounts(promptIds, [...(media?.items ?? []), ...this.unfilledMediaTokens(media?.items ?? [])]);
    if (media !== undefined) {
      prepare = async () => {
        const encoded = await media.encode(media.items);
        const embeddings = media.items.map((item, index) => ({ tokenId: item.tokenId, rows: encoded.rows[index]!, rowCount: item.rowCount, label: item.label }));
        return { embeddings, encoderStats: encoded.encoderStats };
      };
    }
    const inner = streamTokens({
      model: this.runtime,
      cache: this.runtime.createCache(),
      promptIds,
      decoder: this.textDecoder,
      options: generationOptions,
      defaults: this.defaults,
      media: prepare,
    });
    return withWarnings(inner, warnings);
  }

  /** A conversation that keeps its KV cache between turns (images and audio included). */
  chat(params: { messages?: readonly ChatMessage[] } = {}): Gemma3nChat {
    if (params.messages !== undefined && params.messages.length > 0) checkMessages(params.messages, 'chat.messages');
    const tokenizer = this.tokenizer;
    const session = new ChatSession({
      model: this.runtime,
      cache: this.runtime.createCache(),
      tokenizer: { ...this.textDecoder, encode: (text) => tokenizer.encode(text, { addSpecialTokens: false }) },
      template: (messages, addGenerationPrompt) => renderConversation(tokenizer, messages, addGenerationPrompt),
      defaults: this.defaults,
      messages: (params.messages ?? []) as readonly ConversationMessage[],
      mediaTokens: this.mediaTokens(),
    });
    return new Gemma3nChat(session, this.mediaPipeline());
  }

  async dispose(): Promise<void> {
    await Promise.all([this.runtime.release(), this.encoders.release()]);
  }

  private mediaTokens(): { tokenId: number; label: string }[] {
    return [
      { tokenId: this.config.imageTokenId, label: 'image' },
      { tokenId: this.config.audioTokenId, label: 'audio' },
    ];
  }

  /** Zero-row entries for the placeholder ids no item fills, so their count is checked too. */
  private unfilledMediaTokens(items: readonly { tokenId: number }[]) {
    return this.mediaTokens()
      .filter((token) => !items.some((item) => item.tokenId === token.tokenId))
      .map((token) => ({ ...token, rowCount: 0 }));
  }

  private mediaPipeline(): MediaPipeline {
    return new MediaPipeline({
      config: this.config,
      sequenceLengths: this.tokenizer.mediaSequenceLengths ?? { image: 256, audio: 188 },
      preprocessor: this.loadPreprocessor,
      encoders: this.encoders,
      audioPaddingRow: () => {
        this.audioPadding ??= this.runtime.embedRows([this.config.text.vocabSize - 1]);
        this.audioPadding.catch(() => (this.audioPadding = undefined));
        return this.audioPadding;
      },
    });
  }

  private checkIds(promptIds: readonly number[]): void {
    const vocabSize = this.config.text.vocabSize;
    const bad = promptIds.findIndex((id) => id >= vocabSize);
    if (bad !== -1) {
      throw new InputError({ field: `promptIds[${bad}]`, value: promptIds[bad], expected: `a token id below vocab_size ${vocabSize}` });
    }
  }
}

function textDecoderOf(tokenizer: PromptTokenizer): TokenTextDecoder {
  const decoder: TokenTextDecoder = { decode: (tokenIds) => tokenizer.decode(tokenIds, { skipSpecialTokens: true }) };
  if (tokenizer.createStreamingDetokenizer !== undefined) {
    decoder.createStreamingDecoder = () => tokenizer.createStreamingDetokenizer!({ skipSpecialTokens: true });
  }
  return decoder;
}

function collectWarning(warnings: Gemma3nWarning[], onWarning: ((warning: Gemma3nWarning) => void) | undefined) {
  return (warning: Gemma3nWarning) => {
    warnings.push(warning);
    onWarning?.(warning);
  };
}

function withWarnings(inner: GenerationStream, warnings: Gemma3nWarning[]): Gemma3nStream {
  const result = inner.result.then((generation) => ({ ...generation, warnings: [...warnings] }));
  result.catch(() => {});
  return { result, [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator]() };
}

/**
 * A chat with KV reuse: each `send` prefills only what is new since the last turn. Images and
 * clips are encoded once, when their turn is sent, and their rows stay in the KV cache.
 */
export class Gemma3nChat {
  constructor(
    readonly session: ChatSession,
    private readonly media: MediaPipeline,
  ) {}

  get messages(): readonly ConversationMessage[] {
    return this.session.messages;
  }

  async send(content: string | readonly ContentPart[], options: Gemma3nGenerationOptions = {}): Promise<Gemma3nResult> {
    const stream = this.stream(content, options);
    for await (const _delta of stream) {
      // Driving the loop.
    }
    return stream.result;
  }

  stream(content: string | readonly ContentPart[], options: Gemma3nGenerationOptions = {}): Gemma3nStream {
    checkMessages([{ role: 'user', content }], 'content');
    const { onWarning, ...generationOptions } = options;
    const warnings: Gemma3nWarning[] = [];
    const conversation = [...this.session.messages, { role: 'user', content }];
    const media = this.media.turnMedia(conversation, collectWarning(warnings, onWarning));
    return withWarnings(this.session.stream(content, generationOptions, media), warnings);
  }

  reset(): void {
    this.session.reset();
  }
}
