/** The workspace functions a reference continuation needs, passed in so this package depends on no workspace package. */
export interface ReferenceGreedyParams<Config extends { text: { vocabSize: number; vocabSizePerLayerInput: number } }, Weights extends { get(name: string): Float32Array }> {
  /** A raw `config.json` object, e.g. one of `@gemma3n/convert`'s `TINY_TEXT_SHAPES`. */
  rawConfig: Record<string, unknown>;
  seed: number;
  promptIds: readonly number[];
  count: number;
  parseGemma3nConfig(rawConfig: Record<string, unknown>): Config;
  randomCheckpointWeights(rawConfig: Record<string, unknown>, options: { seed: number }): Weights;
  referenceForward(config: Config, weights: (name: string) => Float32Array, inputIds: number[]): Float32Array;
  argmax(logits: ArrayLike<number>): number;
}

/**
 * Greedy continuation of `promptIds` from the reference forward pass over the random checkpoint
 * `randomCheckpointWeights` makes for `seed` (the one the converter's tiny models are written
 * from); ids past `vocabSizePerLayerInput` are never chosen.
 */
export function referenceGreedyTokens<
  Config extends { text: { vocabSize: number; vocabSizePerLayerInput: number } },
  Weights extends { get(name: string): Float32Array },
>(params: ReferenceGreedyParams<Config, Weights>): number[] {
  const config = params.parseGemma3nConfig(params.rawConfig);
  const weights = params.randomCheckpointWeights(params.rawConfig, { seed: params.seed });
  const ids = [...params.promptIds];
  const vocabSize = config.text.vocabSize;
  for (let step = 0; step < params.count; step++) {
    const last = params.referenceForward(config, (name) => weights.get(name), ids).slice((ids.length - 1) * vocabSize);
    last.fill(Number.NEGATIVE_INFINITY, config.text.vocabSizePerLayerInput);
    ids.push(params.argmax(last));
  }
  return ids.slice(params.promptIds.length);
}
