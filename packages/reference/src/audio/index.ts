/**
 * The audio encoder reference (§4.2–4.3): each block a pure function over typed arrays, plus
 * the whole clip → 188 language-model rows. Re-exported from the package index once merged.
 */
export {
  type AudioEncoderDimensions,
  audioEncoderDimensions,
  audioEncoderTokenCount,
  audioPaddingTokenId,
  audioTowerPrefix,
  fixedAudioNormEpsilon,
  requireAudioConfig,
  subsampledFrameCount,
} from './audio-encoder-dimensions';
export {
  type SpectrogramMap,
  cumulativeGroupNorm,
  flattenFrequencyMajor,
  subsampleConv2d,
  subsampleConvProjection,
} from './subsample-conv-projection';
export {
  type AudioAttentionWeights,
  audioLocalAttention,
  audioQueryScale,
  isKeyInAudioContext,
  relativePositionEmbeddings,
  relativePositionTimingSignal,
  softplus,
} from './audio-attention';
export {
  type ConformerBlockWeights,
  type FeedForwardWeights,
  type LightConvWeights,
  causalDepthwiseConv1d,
  conformerBlock,
  conformerFeedForward,
  glu,
  lightConv1d,
  readConformerBlockWeights,
} from './conformer-block';
export {
  type ReferenceAudioTowerOutput,
  referenceAudioEncoder,
  referenceAudioTower,
  subsampledMask,
} from './reference-audio-encoder';
