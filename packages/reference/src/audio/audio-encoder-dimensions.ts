import { ConfigError, type Gemma3nAudioConfig, type Gemma3nConfig } from '@gemma3n/core';

/** Prefix of every audio-tower tensor of a Gemma 3n checkpoint (architecture doc §6). */
export const audioTowerPrefix = 'model.audio_tower.';

/**
 * Epsilon of the feed-forward, attention and block-final RMSNorms. HF builds those norms with
 * the `Gemma3nRMSNorm` default and never passes `rms_norm_eps`; only the light-conv norms and
 * the embedder read the config value (§4.2 "Fixed parts").
 */
export const fixedAudioNormEpsilon = 1e-6;

/**
 * Everything the audio encoder needs from the config, derived once: sizes of each subsampling
 * stage and of the attention window. Shared by the reference and the ONNX graph builder so
 * both read the config the same way.
 */
export interface AudioEncoderDimensions {
  hiddenSize: number;
  headCount: number;
  headDim: number;
  inputFeatureSize: number;
  layerCount: number;
  /** Output channels of each subsampling convolution. */
  convChannels: number[];
  /** [time, frequency] kernel and stride of each subsampling convolution. */
  convKernels: [number, number][];
  convStrides: [number, number][];
  /** Frequency bins after each subsampling convolution (input 128 → 64 → 32 in the release). */
  convOutputFrequencies: number[];
  /** Width of the flattened subsampling output fed to input_proj_linear (f·C + c). */
  projectionInputSize: number;
  groupNormEpsilon: number;
  lightConvNormEpsilon: number;
  convKernelSize: number;
  chunkSize: number;
  /** Keys up to this many frames in the past are visible: context_left − 1. */
  maxPastHorizon: number;
  /** Keys up to this many frames in the future are visible: context_right. */
  maxFutureHorizon: number;
  logitCap: number;
  reductionFactor: number;
  /** Weight of each feed-forward's post-normed output in its residual (conf_residual_weight). */
  residualWeight: number;
}

/** The audio config, or a ConfigError naming what is missing. */
export function requireAudioConfig(config: Gemma3nConfig): Gemma3nAudioConfig {
  if (config.audio === null) {
    throw new ConfigError({ field: 'audio_config', value: null, expected: 'an audio config, to encode audio' });
  }
  return config.audio;
}

function readRawNumber(audio: Gemma3nAudioConfig, key: string, fallback: number): number {
  const value = audio.raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError({ field: `audio_config.${key}`, value, expected: 'a finite number' });
  }
  return value;
}

export function audioEncoderDimensions(config: Gemma3nConfig): AudioEncoderDimensions {
  const audio = requireAudioConfig(config);
  if (audio.sscpConvChannelSize.length !== 2) {
    // HF builds exactly two subsampling blocks (conv_0, conv_1) whatever the lists hold.
    throw new ConfigError({
      field: 'audio_config.sscp_conv_channel_size',
      value: audio.sscpConvChannelSize,
      expected: 'two entries (the encoder has exactly two subsampling convolutions)',
    });
  }
  const convKernels = audio.sscpConvKernelSize.map(([time, frequency]) => [time!, frequency!] as [number, number]);
  const convStrides = audio.sscpConvStrideSize.map(([time, frequency]) => [time!, frequency!] as [number, number]);
  const convOutputFrequencies: number[] = [];
  let frequencies = audio.inputFeatSize;
  for (let index = 0; index < 2; index++) {
    // Frequency padding is always (1, 1) in HF, whatever the kernel.
    frequencies = Math.floor((frequencies + 2 - convKernels[index]![1]) / convStrides[index]![1]) + 1;
    if (frequencies < 1) {
      throw new ConfigError({ field: 'audio_config.input_feat_size', value: audio.inputFeatSize, expected: 'enough bins for both subsampling convolutions' });
    }
    convOutputFrequencies.push(frequencies);
  }
  return {
    hiddenSize: audio.hiddenSize,
    headCount: audio.confNumAttentionHeads,
    headDim: audio.hiddenSize / audio.confNumAttentionHeads,
    inputFeatureSize: audio.inputFeatSize,
    layerCount: audio.confNumHiddenLayers,
    convChannels: [...audio.sscpConvChannelSize],
    convKernels,
    convStrides,
    convOutputFrequencies,
    projectionInputSize: frequencies * audio.sscpConvChannelSize[1]!,
    groupNormEpsilon: audio.sscpConvGroupNormEps,
    lightConvNormEpsilon: audio.rmsNormEps,
    convKernelSize: audio.confConvKernelSize,
    chunkSize: audio.confAttentionChunkSize,
    maxPastHorizon: Math.max(0, audio.confAttentionContextLeft - 1),
    maxFutureHorizon: audio.confAttentionContextRight,
    logitCap: audio.confAttentionLogitCap,
    reductionFactor: audio.confReductionFactor,
    residualWeight: readRawNumber(audio, 'conf_residual_weight', 0.5),
  };
}

/** Frames after one subsampling convolution: time padding (0, k − 1), then stride s. */
export function subsampledFrameCount(frames: number, kernel: number, stride: number): number {
  return Math.floor((frames + kernel - 1 - kernel) / stride) + 1;
}

/**
 * Encoder tokens (before padding to audio_seq_length) for a clip of `frames` mel frames:
 * two subsampling convolutions, then every reduction_factor-th frame (3000 → 1500 → 750 → 188).
 */
export function audioEncoderTokenCount(config: Gemma3nConfig, frames: number): number {
  const dimensions = audioEncoderDimensions(config);
  let count = frames;
  for (let index = 0; index < 2; index++) {
    count = subsampledFrameCount(count, dimensions.convKernels[index]![0], dimensions.convStrides[index]![0]);
  }
  return Math.ceil(count / dimensions.reductionFactor);
}

/**
 * The hard-token row that replaces masked encoder positions and pads the output to
 * audio_seq_length: HF embeds id `text vocab_size − 1` with embed_audio, i.e. row
 * `vocab_size − 1 − vocab_offset` of the audio table (the last one in every release).
 */
export function audioPaddingTokenId(config: Gemma3nConfig): number {
  const audio = requireAudioConfig(config);
  const tokenId = config.text.vocabSize - 1;
  if (tokenId < audio.vocabOffset || tokenId >= audio.vocabOffset + audio.vocabSize) {
    throw new ConfigError({
      field: 'audio_config.vocab_offset',
      value: audio.vocabOffset,
      expected: `an audio id range [vocab_offset, vocab_offset + vocab_size) that holds text vocab_size − 1 (${tokenId}), the id HF pads audio features with`,
    });
  }
  return tokenId;
}
