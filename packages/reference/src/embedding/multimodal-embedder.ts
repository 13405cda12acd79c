import { ConfigError, type Gemma3nAudioConfig, type Gemma3nConfig, type Gemma3nVisionConfig } from '@gemma3n/core';
import { linear } from '../blocks/linear';
import { rmsNorm } from '../blocks/rms-norm';
import { readWeight, type WeightLookup } from '../weight-lookup';

/*
 * `embed_vision` / `embed_audio` (§3 end, §4.3), checked against HF `Gemma3nMultimodalEmbedder`:
 * hard: `RMSNorm_noscale(embedding_projection(RMSNorm_hard(embedding[id − offset])))`;
 * soft: the same with `soft_embedding_norm` on the encoder output. Both norms use the modality
 * config's rms_norm_eps. No sqrt(D) scale on either path (the text scale is for text rows only).
 */

export type EmbedderModality = 'vision' | 'audio';

function modalityConfig(config: Gemma3nConfig, modality: EmbedderModality): Gemma3nVisionConfig | Gemma3nAudioConfig {
  const modalityConfig = modality === 'vision' ? config.vision : config.audio;
  if (modalityConfig === null) {
    throw new ConfigError({ field: `${modality}_config`, value: null, expected: `a ${modality} config, to embed ${modality} tokens` });
  }
  return modalityConfig;
}

/** The id range `[vocabOffset, vocabOffset + vocabSize)` embedded by this modality's hard path. */
export function isHardTokenOf(config: Gemma3nConfig, modality: EmbedderModality, tokenId: number): boolean {
  const modalityConfig = modality === 'vision' ? config.vision : config.audio;
  return modalityConfig !== null && tokenId >= modalityConfig.vocabOffset && tokenId < modalityConfig.vocabOffset + modalityConfig.vocabSize;
}

function project(config: Gemma3nConfig, weights: WeightLookup, modality: EmbedderModality, normed: Float32Array): Float32Array {
  const { hiddenSize: modalityHidden, rmsNormEps } = modalityConfig(config, modality);
  const textHidden = config.text.hiddenSize;
  const projection = readWeight(weights, `model.embed_${modality}.embedding_projection.weight`, [textHidden, modalityHidden]);
  return rmsNorm(linear(projection, normed, modalityHidden, textHidden), null, rmsNormEps);
}

/** Hard-token embedding [D] of `tokenId` (an id in the modality's range, offset not yet removed). */
export function referenceEmbedHardToken(config: Gemma3nConfig, weights: WeightLookup, modality: EmbedderModality, tokenId: number): Float32Array {
  const { hiddenSize: modalityHidden, vocabSize, vocabOffset, rmsNormEps } = modalityConfig(config, modality);
  const table = readWeight(weights, `model.embed_${modality}.embedding.weight`, [vocabSize, modalityHidden]);
  const norm = readWeight(weights, `model.embed_${modality}.hard_embedding_norm.weight`, [modalityHidden]);
  const row = (tokenId - vocabOffset) * modalityHidden;
  return project(config, weights, modality, rmsNorm(table.subarray(row, row + modalityHidden), norm, rmsNormEps));
}

/**
 * Soft-token embeddings [N, D] of encoder outputs [N, modality hidden]. For vision the caller
 * passes the tower output already transposed to tokens and multiplied by sqrt(vision hidden)
 * (HF `get_image_features` does that before `embed_vision`); audio takes the encoder output as is.
 */
export function referenceEmbedSoftTokens(config: Gemma3nConfig, weights: WeightLookup, modality: EmbedderModality, features: Float32Array, tokenCount: number): Float32Array {
  const { hiddenSize: modalityHidden, rmsNormEps } = modalityConfig(config, modality);
  const textHidden = config.text.hiddenSize;
  const norm = readWeight(weights, `model.embed_${modality}.soft_embedding_norm.weight`, [modalityHidden]);
  const output = new Float32Array(tokenCount * textHidden);
  for (let token = 0; token < tokenCount; token++) {
    const normed = rmsNorm(features.subarray(token * modalityHidden, (token + 1) * modalityHidden), norm, rmsNormEps);
    output.set(project(config, weights, modality, normed), token * textHidden);
  }
  return output;
}
