import { applyRepetitionPenalty, applyTemperature, argmax, maskTokensFrom } from './logits-processing';
import { drawCandidate, drawFromLogits, selectCandidates } from './candidate-filters';
import { createSeededRandom, type RandomSource } from './seeded-random';
import type { ResolvedSamplingOptions } from './sampling-options';

/** Picks the next token from one logits row. Stateful only through its random source. */
export interface TokenSampler {
  /**
   * @param logits the last position's logits; not modified.
   * @param previousTokenIds the whole sequence so far (prompt and output), for the repetition penalty.
   */
  sample(logits: Float32Array, previousTokenIds: ArrayLike<number>): number;
}

export interface TokenSamplerParams extends ResolvedSamplingOptions {
  /** Ids from here on are never sampled (vocab_size_per_layer_input); `Infinity` masks nothing. */
  firstMaskedId: number;
  /** Overrides the seeded generator, e.g. to share one across turns. */
  random?: RandomSource;
}

/**
 * The processing order is Hugging Face's: the id mask and repetition penalty (logits
 * processors), then temperature, top-k, top-p and min-p (warpers), then a draw. Greedy
 * decoding skips the warpers: argmax is unchanged by them.
 */
export function createTokenSampler(params: TokenSamplerParams): TokenSampler {
  const random = params.random ?? createSeededRandom(params.seed);
  return {
    sample(logits, previousTokenIds) {
      const working = Float32Array.from(logits);
      maskTokensFrom(working, params.firstMaskedId);
      applyRepetitionPenalty(working, previousTokenIds, params.repetitionPenalty);
      if (params.greedy) return argmax(working);
      applyTemperature(working, params.temperature);
      const filtered = (params.topK > 0 && params.topK < working.length) || params.topP < 1 || params.minP > 0;
      if (!filtered) return drawFromLogits(working, random.next());
      return drawCandidate(selectCandidates(working, params), random.next());
    },
  };
}
