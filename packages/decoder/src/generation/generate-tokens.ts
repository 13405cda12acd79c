import { InputError } from '@gemma3n/core';
import type { EncoderStats, MediaEmbedding, PreparedMedia } from '../media/media-embeddings';
import type { KvCache } from '../runtime/kv-cache';
import { resolveSamplingOptions } from '../sampling/sampling-options';
import { createTokenSampler } from '../sampling/token-sampler';
import { type GenerationDefaults, type GenerationOptions, validateGenerationOptions } from './generation-options';
import { IncrementalDetokenizer, type TokenTextDecoder } from './incremental-detokenizer';
import { StopStringMatcher } from './stop-strings';

/** What the generation loop needs from a model: `DecoderRuntime` or a test double. */
export interface TokenModel {
  /** No sequence may be longer (max_position_embeddings). */
  readonly contextLength: number;
  /** Ids from here on are never sampled (vocab_size_per_layer_input). */
  readonly firstMaskedId: number;
  /** Feeds `tokenIds` after the cache, extends it, returns the last position's logits. */
  forward(
    tokenIds: readonly number[],
    cache: KvCache,
    options?: { signal?: AbortSignal; media?: readonly MediaEmbedding[] },
  ): Promise<Float32Array>;
}

/** One generated token and the text it adds (possibly '' while a character or stop string is pending). */
export interface GenerationDelta {
  tokenId: number;
  text: string;
}

export type FinishReason = 'stop' | 'stop-string' | 'length' | 'cancelled';

export interface GenerationStats extends EncoderStats {
  /** From the call to the first sampled token (media encoding, the prefill and one sampling step). */
  ttftMs: number;
  /** Prompt tokens per second of prefill (encoder time not included). */
  prefillTokensPerSecond: number;
  /** Tokens after the first, per second of decoding; 0 when only one token was generated. */
  decodeTokensPerSecond: number;
  totalMs: number;
}

export interface GenerationResult {
  /** The generated text, without stop tokens and cut before a stop string. */
  text: string;
  /** Every generated id, including the stop token that ended generation (as Hugging Face returns it). */
  tokenIds: number[];
  /** Tokens prefilled by this call. */
  promptTokens: number;
  /** Tokens that were already in the cache and reused. */
  reusedTokens: number;
  finishReason: FinishReason;
  stats: GenerationStats;
}

/** Deltas as they come, and the whole result once the run ends. Iterate it once. */
export interface GenerationStream extends AsyncIterable<GenerationDelta> {
  readonly result: Promise<GenerationResult>;
}

export interface GenerateTokensParams {
  model: TokenModel;
  /** The past to continue from; it is extended in place. */
  cache: KvCache;
  /** Ids to prefill after the cache (at least one). */
  promptIds: readonly number[];
  decoder: TokenTextDecoder;
  options?: GenerationOptions;
  defaults?: GenerationDefaults;
  /**
   * Encoder rows for the media placeholders of `promptIds`, or a function that encodes them
   * when the run starts (so a stream that is never iterated never runs the encoders).
   */
  media?: readonly MediaEmbedding[] | (() => Promise<PreparedMedia>);
}

/** Runs generation to the end and returns the result. */
export async function generateTokens(params: GenerateTokensParams): Promise<GenerationResult> {
  const stream = streamTokens(params);
  for await (const _delta of stream) {
    // Consuming the deltas drives the loop.
  }
  return stream.result;
}

/**
 * Starts generation lazily: nothing runs until the stream is iterated. Options are checked
 * at once, so a bad option throws here rather than at the first `next()`.
 */
export function streamTokens(params: GenerateTokensParams): GenerationStream {
  const options = params.options ?? {};
  validateGenerationOptions(options);
  const sampling = resolveSamplingOptions(options, params.defaults?.sampling);
  const stopTokenIds = new Set(options.stopTokenIds ?? params.defaults?.stopTokenIds ?? []);
  const maxNewTokens = checkContext(params, options.maxNewTokens);

  let settle!: { resolve: (result: GenerationResult) => void; reject: (error: unknown) => void };
  const result = new Promise<GenerationResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => {}); // the rejection also reaches the iterating caller; don't report it twice
  let started = false;

  async function* run(): AsyncGenerator<GenerationDelta> {
    const { model, cache, promptIds } = params;
    const signal = options.signal;
    const sampler = createTokenSampler({ ...sampling, firstMaskedId: model.firstMaskedId });
    const detokenizer = params.decoder.createStreamingDecoder?.() ?? new IncrementalDetokenizer(params.decoder);
    const stopMatcher = new StopStringMatcher(options.stopStrings ?? []);
    const reusedTokens = cache.length;
    const tokenIds: number[] = [];
    let text = ''; // released text: never part of a stop string
    let pendingText = ''; // decoded but held back
    let finishReason: FinishReason = 'cancelled';
    const startTime = now();
    let firstTokenTime = startTime;
    let prefillStartTime = startTime;
    let prefillEndTime = startTime;
    let encoderStats: EncoderStats = {};
    const finish = (): GenerationResult => {
      const endTime = now();
      const decodeSeconds = (endTime - firstTokenTime) / 1000;
      return {
        text,
        tokenIds,
        promptTokens: promptIds.length,
        reusedTokens,
        finishReason,
        stats: {
          ttftMs: firstTokenTime - startTime,
          prefillTokensPerSecond: promptIds.length / Math.max((prefillEndTime - prefillStartTime) / 1000, 1e-9),
          decodeTokensPerSecond: tokenIds.length > 1 ? (tokenIds.length - 1) / Math.max(decodeSeconds, 1e-9) : 0,
          totalMs: endTime - startTime,
          ...encoderStats,
        },
      };
    };

    try {
      throwIfAborted(signal);
      let media: readonly MediaEmbedding[] | undefined;
      if (typeof params.media === 'function') {
        const prepared = await params.media();
        media = prepared.embeddings;
        encoderStats = { ...prepared.encoderStats };
        throwIfAborted(signal);
        prefillStartTime = now();
      } else {
        media = params.media;
      }
      let logits = await model.forward(promptIds, cache, media === undefined ? { signal } : { signal, media });
      prefillEndTime = now();
      for (let step = 0; ; step++) {
        throwIfAborted(signal);
        options.onLogits?.(logits, step);
        const tokenId = sampler.sample(logits, cache.tokenIds);
        if (tokenId < 0) throw new RangeError('every logit is -Infinity or NaN: the model output is unusable');
        if (step === 0) firstTokenTime = now();
        tokenIds.push(tokenId);

        if (stopTokenIds.has(tokenId)) {
          finishReason = 'stop';
          const rest = pendingText + detokenizer.flush();
          text += rest;
          yield { tokenId, text: rest };
          break;
        }
        // Released text never ends in the start of a stop string, so a stop string can only
        // begin inside the pending tail: matching looks at the tail alone, not the whole text.
        pendingText += detokenizer.push(tokenId);
        const stopAt = stopMatcher.findStop(pendingText);
        if (stopAt !== -1) {
          finishReason = 'stop-string';
          const delta = pendingText.slice(0, stopAt);
          text += delta;
          yield { tokenId, text: delta };
          break;
        }
        const safe = stopMatcher.safeLength(pendingText);
        const delta = pendingText.slice(0, safe);
        text += delta;
        pendingText = pendingText.slice(safe);
        if (tokenIds.length >= maxNewTokens) {
          finishReason = 'length';
          const rest = pendingText + detokenizer.flush();
          text += rest;
          yield { tokenId, text: delta + rest };
          break;
        }
        yield { tokenId, text: delta };
        throwIfAborted(signal);
        logits = await model.forward([tokenId], cache);
      }
      settle.resolve(finish());
    } catch (error) {
      settle.reject(error);
      throw error;
    } finally {
      // A consumer that stops iterating early ends the run; the result says so.
      settle.resolve(finish());
    }
  }

  return {
    result,
    [Symbol.asyncIterator]() {
      if (started) throw new Error('a generation stream can be iterated only once');
      started = true;
      return run();
    },
  };
}

function checkContext(params: GenerateTokensParams, maxNewTokens: number | undefined): number {
  const { model, cache, promptIds } = params;
  if (promptIds.length === 0) {
    throw new InputError({ field: 'prompt', value: [], expected: 'at least one token' });
  }
  const sequenceLength = cache.length + promptIds.length;
  const context = model.contextLength;
  const history = cache.length > 0 ? ` plus ${cache.length} tokens already in the session` : '';
  if (sequenceLength >= context) {
    throw new InputError({
      field: 'prompt',
      value: `${promptIds.length} tokens`,
      expected: `fewer tokens: the prompt is ${promptIds.length} tokens${history}, and the model's context ` +
        `(max_position_embeddings) is ${context}, which must also hold the output`,
      message:
        `The prompt is too long: ${promptIds.length} tokens${history} leave no room for output in the ` +
        `model's context of ${context} tokens (max_position_embeddings). Shorten the prompt or start a new session.`,
    });
  }
  const room = context - sequenceLength;
  if (maxNewTokens === undefined) return room;
  if (maxNewTokens > room) {
    throw new InputError({
      field: 'maxNewTokens',
      value: maxNewTokens,
      expected: `at most ${room}`,
      message:
        `maxNewTokens is ${maxNewTokens}, but the prompt (${promptIds.length} tokens${history}) leaves room for ` +
        `only ${room} more in the model's context of ${context} tokens (max_position_embeddings).`,
    });
  }
  return maxNewTokens;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('The generation was aborted', 'AbortError');
  }
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
