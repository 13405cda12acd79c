import { InputError, type Gemma3nConfig } from '@gemma3n/core';
import { referenceEmbedHardToken, referenceEmbedSoftTokens } from '../embedding/multimodal-embedder';
import type { WeightLookup } from '../weight-lookup';
import { audioEncoderDimensions, audioPaddingTokenId, type AudioEncoderDimensions } from './audio-encoder-dimensions';
import { conformerBlock, readConformerBlockWeights } from './conformer-block';
import { subsampleConvProjection } from './subsample-conv-projection';

/** Encoder output of one clip before the embedder: HF `Gemma3nAudioEncoder` (`audio_tower`). */
export interface ReferenceAudioTowerOutput {
  /** `[tokens, audio hidden]`; rows of invalid tokens are zero (HF masked_fill). */
  hidden: Float32Array;
  /** 1 for a valid token: the input mask read at frame `reduction · stride_product · t`. */
  valid: Uint8Array;
  tokens: number;
}

/**
 * The SSCP mask: frame t of the subsampled sequence is valid iff input frame t·Π(time strides)
 * is (HF gathers those indices, clamped to the last frame).
 */
export function subsampledMask(dimensions: AudioEncoderDimensions, mask: Uint8Array, subsampledFrames: number): Uint8Array {
  const strideProduct = dimensions.convStrides.reduce((product, [time]) => product * time, 1);
  return Uint8Array.from({ length: subsampledFrames }, (_, frame) => (mask[Math.min(frame * strideProduct, mask.length - 1)] ? 1 : 0));
}

function checkClip(dimensions: AudioEncoderDimensions, features: Float32Array, mask: Uint8Array): number {
  const frames = mask.length;
  if (frames === 0) throw new InputError({ field: 'mask', value: mask, expected: 'at least one frame' });
  if (features.length !== frames * dimensions.inputFeatureSize) {
    throw new InputError({
      field: 'features',
      value: `a Float32Array of ${features.length} values`,
      expected: `${frames} frames × ${dimensions.inputFeatureSize} mel bins = ${frames * dimensions.inputFeatureSize} values, one row per mask entry`,
    });
  }
  return frames;
}

/**
 * The audio tower on one clip (§4.2): `features` `[T, input_feat_size]` log-mel, `mask` `[T]`
 * with 1 = valid frame. Encode one clip at a time: in a padded batch HF's result for a clip
 * depends on the other clips (see §4.2 "Batching").
 */
export function referenceAudioTower(config: Gemma3nConfig, weights: WeightLookup, features: Float32Array, mask: Uint8Array): ReferenceAudioTowerOutput {
  const dimensions = audioEncoderDimensions(config);
  const frames = checkClip(dimensions, features, mask);
  const subsampled = subsampleConvProjection(dimensions, weights, features, frames);
  const valid = subsampledMask(dimensions, mask, subsampled.frames);
  let hidden = subsampled.hidden;
  for (let layer = 0; layer < dimensions.layerCount; layer++) {
    hidden = conformerBlock(dimensions, readConformerBlockWeights(dimensions, weights, layer), hidden, valid, subsampled.frames);
  }
  // Every reduction_factor-th frame, and its mask entry, from frame 0: ceil(T₂ / r) tokens.
  const width = dimensions.hiddenSize;
  const tokens = Math.ceil(subsampled.frames / dimensions.reductionFactor);
  const reduced = new Float32Array(tokens * width);
  const reducedValid = new Uint8Array(tokens);
  for (let token = 0; token < tokens; token++) {
    const frame = token * dimensions.reductionFactor;
    reducedValid[token] = valid[frame]!;
    if (valid[frame]) reduced.set(hidden.subarray(frame * width, (frame + 1) * width), token * width);
  }
  return { hidden: reduced, valid: reducedValid, tokens };
}

/**
 * What the language model receives for one clip, `[audioSeqLength, text hidden]`: the soft
 * embedding (`embed_audio`) of each valid encoder token, the hard embedding of id
 * `text vocab_size − 1` at invalid tokens and after the last token (HF `Gemma3nModel.forward`).
 *
 * More encoder tokens than `audioSeqLength` (only for inputs longer than the 30 s the feature
 * extractor allows) make HF fail; here, as in the ONNX graph, the output keeps the first
 * `audioSeqLength` tokens. `audioEncoderTokenCount` tells a caller in advance.
 */
export function referenceAudioEncoder(
  config: Gemma3nConfig,
  weights: WeightLookup,
  features: Float32Array,
  mask: Uint8Array,
  audioSeqLength = config.audioSoftTokensPerImage,
): Float32Array {
  const tower = referenceAudioTower(config, weights, features, mask);
  const textHidden = config.text.hiddenSize;
  const padding = referenceEmbedHardToken(config, weights, 'audio', audioPaddingTokenId(config));
  const kept = Math.min(tower.tokens, audioSeqLength);
  const soft = referenceEmbedSoftTokens(config, weights, 'audio', tower.hidden, kept);
  const output = new Float32Array(audioSeqLength * textHidden);
  for (let token = 0; token < audioSeqLength; token++) {
    const row = token < kept && tower.valid[token] ? soft.subarray(token * textHidden, (token + 1) * textHidden) : padding;
    output.set(row, token * textHidden);
  }
  return output;
}
