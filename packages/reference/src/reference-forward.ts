import type { Gemma3nConfig } from '@gemma3n/core';
import { referenceDecoder } from './decoder/reference-decoder';
import { referenceEmbed } from './embedding/reference-embed';
import type { WeightLookup } from './weight-lookup';

/** Text-only forward: `referenceEmbed` then `referenceDecoder`; logits [T, V] for positions 0..T−1. */
export function referenceForward(config: Gemma3nConfig, weights: WeightLookup, inputIds: number[]): Float32Array {
  const { inputsEmbeds, perLayerInputs } = referenceEmbed(config, weights, inputIds);
  return referenceDecoder(config, weights, inputsEmbeds, perLayerInputs, inputIds.length);
}
