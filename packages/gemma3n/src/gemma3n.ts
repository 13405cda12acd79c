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
  type ConversationMessage,
  type DecoderRuntime,
  type DtypeChoice,
  type GenerationDefaults,
  type GenerationOptions,
  type GenerationResult,
  type GenerationStream,
  loadDecoderRuntime,
  streamTokens,
  type TokenTextDecoder,
} from '@gemma3n/decoder';
import { checkMessages, type ChatMessage, type GenerateRequest, promptOf } from './generate-request';
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
  const tokenizer = params.tokenizer ?? (await loadPromptTokenizer(params.files));
  const loaded = await loadDecoderRuntime({
    files: params.files,
    backend,
    dtype: params.dtype,
    sessionOptions: params.sessionOptions,
    prefillChunkSize: params.prefillChunkSize,
  });
  const defaults = await readGenerationDefaults(params.files, loaded.config);
  return new Gemma3n({ runtime: loaded.runtime, config: loaded.config, tokenizer, defaults, backend, files: params.files });
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
}

/** Final text, ids and timings of one `generate` call. */
export type Gemma3nResult = GenerationResult;

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
  private readonly textDecoder: TokenTextDecoder;

  constructor(parts: Gemma3nParts) {
    this.runtime = parts.runtime;
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

  /** Streams `{ tokenId, text }` deltas; `.result` resolves with the whole result. */
  stream(request: GenerateRequest): GenerationStream {
    const { promptIds, options } = promptOf(request, this.tokenizer);
    this.checkIds(promptIds);
    return streamTokens({
      model: this.runtime,
      cache: this.runtime.createCache(),
      promptIds,
      decoder: this.textDecoder,
      options,
      defaults: this.defaults,
    });
  }

  /** A conversation that keeps its KV cache between turns. */
  chat(params: { messages?: readonly ChatMessage[] } = {}): Gemma3nChat {
    if (params.messages !== undefined && params.messages.length > 0) checkMessages(params.messages, 'chat.messages');
    const tokenizer = this.tokenizer;
    const session = new ChatSession({
      model: this.runtime,
      cache: this.runtime.createCache(),
      tokenizer: { ...this.textDecoder, encode: (text) => tokenizer.encode(text, { addSpecialTokens: false }) },
      template: (messages, addGenerationPrompt) => tokenizer.applyChatTemplate(messages, { addGenerationPrompt }),
      defaults: this.defaults,
      messages: (params.messages ?? []) as readonly ConversationMessage[],
    });
    return new Gemma3nChat(session);
  }

  async dispose(): Promise<void> {
    await this.runtime.release();
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

/** A chat with KV reuse: each `send` prefills only what is new since the last turn. */
export class Gemma3nChat {
  constructor(readonly session: ChatSession) {}

  get messages(): readonly ConversationMessage[] {
    return this.session.messages;
  }

  send(content: string | readonly { type: 'text'; text: string }[], options: GenerationOptions = {}): Promise<GenerationResult> {
    checkMessages([{ role: 'user', content }], 'content');
    return this.session.send(content, options);
  }

  stream(content: string | readonly { type: 'text'; text: string }[], options: GenerationOptions = {}): GenerationStream {
    checkMessages([{ role: 'user', content }], 'content');
    return this.session.stream(content, options);
  }

  reset(): void {
    this.session.reset();
  }
}
