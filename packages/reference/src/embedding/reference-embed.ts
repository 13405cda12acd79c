import { InputError, type Gemma3nConfig } from '@gemma3n/core';
import { readWeight, textWeightName, type WeightLookup } from '../weight-lookup';
import { isHardTokenOf, referenceEmbedHardToken } from './multimodal-embedder';

export interface ReferenceEmbedOutput {
  inputsEmbeds: Float32Array; // [T, D]
  perLayerInputs: Float32Array; // [T, L, P]
}

/**
 * The embed_tokens session of the folder contract (§1.3 steps 1, 2 and 4):
 * - text ids: `embed_tokens[id] · sqrt(D)`;
 * - ids in `[vision.vocabOffset, + vision.vocabSize)` → embed_vision hard path, ids in the audio
 *   range → embed_audio hard path, neither scaled by sqrt(D). HF tests `id < audio offset` for
 *   vision and `id ≥ audio offset` for audio; with the released offsets (262144 + 128 = 262272)
 *   that is the same partition, and ids past the audio range are not valid ids anyway (< V).
 * - `perLayerInputs = embed_tokens_per_layer[id'] · sqrt(P)` with id' = id if
 *   0 ≤ id < vocab_size_per_layer_input, else 0 (HF `Gemma3nModel.forward`). The projection and
 *   the 2^-0.5 combine happen in the decoder (it needs E after the soft-token merge).
 * Soft-token placeholders stay text embeddings here; the caller overwrites them (§1.3 step 3).
 */
export function referenceEmbed(config: Gemma3nConfig, weights: WeightLookup, inputIds: number[]): ReferenceEmbedOutput {
  const text = config.text;
  const { hiddenSize, vocabSize, vocabSizePerLayerInput, hiddenSizePerLayerInput: perLayerSize } = text;
  const perLayerWidth = text.numHiddenLayers * perLayerSize;
  const table = readWeight(weights, textWeightName('embed_tokens.weight'), [vocabSize, hiddenSize]);
  const perLayerTable = readWeight(weights, textWeightName('embed_tokens_per_layer.weight'), [vocabSizePerLayerInput, perLayerWidth]);
  const textScale = Math.sqrt(hiddenSize);
  const perLayerScale = Math.sqrt(perLayerSize);
  const inputsEmbeds = new Float32Array(inputIds.length * hiddenSize);
  const perLayerInputs = new Float32Array(inputIds.length * perLayerWidth);
  inputIds.forEach((tokenId, position) => {
    if (!(Number.isInteger(tokenId) && tokenId >= 0 && tokenId < vocabSize)) {
      throw new InputError({ field: `inputIds[${position}]`, value: tokenId, expected: `an integer in [0, ${vocabSize})` });
    }
    if (isHardTokenOf(config, 'vision', tokenId)) {
      inputsEmbeds.set(referenceEmbedHardToken(config, weights, 'vision', tokenId), position * hiddenSize);
    } else if (isHardTokenOf(config, 'audio', tokenId)) {
      inputsEmbeds.set(referenceEmbedHardToken(config, weights, 'audio', tokenId), position * hiddenSize);
    } else {
      for (let index = 0; index < hiddenSize; index++) {
        inputsEmbeds[position * hiddenSize + index] = table[tokenId * hiddenSize + index]! * textScale;
      }
    }
    const perLayerRow = tokenId < vocabSizePerLayerInput ? tokenId : 0;
    for (let index = 0; index < perLayerWidth; index++) {
      perLayerInputs[position * perLayerWidth + index] = perLayerTable[perLayerRow * perLayerWidth + index]! * perLayerScale;
    }
  });
  return { inputsEmbeds, perLayerInputs };
}
