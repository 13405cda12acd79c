import { ConfigError, type Gemma3nAudioConfig, type Gemma3nConfig } from '@gemma3n/core';
import type { ExpectedTensor } from '../checkpoint/expected-checkpoint-tensors';

/** Prefix of every audio-tower tensor (architecture doc §6). */
export const AUDIO_TOWER_PREFIX = 'model.audio_tower.';

/**
 * Sizes the audio graph needs, derived from the config (§4.2). HF hard-codes parts of the
 * encoder that look configurable: exactly two subsampling convolutions, frequency padding
 * (1, 1), head_dim = hidden / heads, feed-forward width 4·hidden.
 */
export interface AudioGraphDimensions {
  hiddenSize: number;
  headCount: number;
  headDim: number;
  inputFeatureSize: number;
  layerCount: number;
  convChannels: [number, number];
  convKernels: [[number, number], [number, number]];
  convStrides: [[number, number], [number, number]];
  convOutputFrequencies: [number, number];
  projectionInputSize: number;
  groupNormEpsilon: number;
  lightConvNormEpsilon: number;
  convKernelSize: number;
  maxPastHorizon: number;
  maxFutureHorizon: number;
  logitCap: number;
  reductionFactor: number;
  residualWeight: number;
}

export function requireAudio(config: Gemma3nConfig): Gemma3nAudioConfig {
  if (config.audio === null) {
    throw new ConfigError({ field: 'audio_config', value: null, expected: 'an audio config, to build the audio encoder' });
  }
  return config.audio;
}

export function audioGraphDimensions(config: Gemma3nConfig): AudioGraphDimensions {
  const audio = requireAudio(config);
  if (audio.sscpConvChannelSize.length !== 2) {
    throw new ConfigError({
      field: 'audio_config.sscp_conv_channel_size',
      value: audio.sscpConvChannelSize,
      expected: 'two entries (the encoder has exactly two subsampling convolutions)',
    });
  }
  const pair = (list: number[][], index: number): [number, number] => [list[index]![0]!, list[index]![1]!];
  const convKernels: [[number, number], [number, number]] = [pair(audio.sscpConvKernelSize, 0), pair(audio.sscpConvKernelSize, 1)];
  const convStrides: [[number, number], [number, number]] = [pair(audio.sscpConvStrideSize, 0), pair(audio.sscpConvStrideSize, 1)];
  const first = Math.floor((audio.inputFeatSize + 2 - convKernels[0][1]) / convStrides[0][1]) + 1;
  const second = Math.floor((first + 2 - convKernels[1][1]) / convStrides[1][1]) + 1;
  if (second < 1) {
    throw new ConfigError({ field: 'audio_config.input_feat_size', value: audio.inputFeatSize, expected: 'enough bins for both subsampling convolutions' });
  }
  const residual = audio.raw['conf_residual_weight'];
  return {
    hiddenSize: audio.hiddenSize,
    headCount: audio.confNumAttentionHeads,
    headDim: audio.hiddenSize / audio.confNumAttentionHeads,
    inputFeatureSize: audio.inputFeatSize,
    layerCount: audio.confNumHiddenLayers,
    convChannels: [audio.sscpConvChannelSize[0]!, audio.sscpConvChannelSize[1]!],
    convKernels,
    convStrides,
    convOutputFrequencies: [first, second],
    projectionInputSize: second * audio.sscpConvChannelSize[1]!,
    groupNormEpsilon: audio.sscpConvGroupNormEps,
    lightConvNormEpsilon: audio.rmsNormEps,
    convKernelSize: audio.confConvKernelSize,
    maxPastHorizon: Math.max(0, audio.confAttentionContextLeft - 1),
    maxFutureHorizon: audio.confAttentionContextRight,
    logitCap: audio.confAttentionLogitCap,
    reductionFactor: audio.confReductionFactor,
    residualWeight: typeof residual === 'number' ? residual : 0.5,
  };
}

/** The names and PyTorch shapes of every `model.audio_tower.*` tensor (§6). */
export function expectedAudioTowerTensors(config: Gemma3nConfig): ExpectedTensor[] {
  const dimensions = audioGraphDimensions(config);
  const hidden = dimensions.hiddenSize;
  const tensors: ExpectedTensor[] = [];
  const add = (name: string, shape: number[]) => tensors.push({ name: `${AUDIO_TOWER_PREFIX}${name}`, shape });
  let inChannels = 1;
  for (let index = 0; index < 2; index++) {
    const channels = dimensions.convChannels[index]!;
    add(`subsample_conv_projection.conv_${index}.conv.weight`, [channels, inChannels, ...dimensions.convKernels[index]!]);
    add(`subsample_conv_projection.conv_${index}.norm.weight`, [channels]);
    inChannels = channels;
  }
  add('subsample_conv_projection.input_proj_linear.weight', [hidden, dimensions.projectionInputSize]);
  for (let layer = 0; layer < dimensions.layerCount; layer++) {
    const block = `conformer.${layer}.`;
    for (const feedForward of ['ffw_layer_start', 'ffw_layer_end']) {
      add(`${block}${feedForward}.pre_layer_norm.weight`, [hidden]);
      add(`${block}${feedForward}.ffw_layer_1.weight`, [4 * hidden, hidden]);
      add(`${block}${feedForward}.ffw_layer_2.weight`, [hidden, 4 * hidden]);
      add(`${block}${feedForward}.post_layer_norm.weight`, [hidden]);
    }
    add(`${block}attention.pre_attn_norm.weight`, [hidden]);
    for (const projection of ['q_proj', 'k_proj', 'v_proj']) add(`${block}attention.attn.${projection}.weight`, [hidden, hidden]);
    add(`${block}attention.attn.per_dim_scale`, [dimensions.headDim]);
    add(`${block}attention.attn.relative_position_embedding.pos_proj.weight`, [hidden, hidden]);
    add(`${block}attention.post.weight`, [hidden, hidden]);
    add(`${block}attention.post_norm.weight`, [hidden]);
    add(`${block}lconv1d.pre_layer_norm.weight`, [hidden]);
    add(`${block}lconv1d.linear_start.weight`, [2 * hidden, hidden]);
    add(`${block}lconv1d.depthwise_conv1d.weight`, [hidden, 1, dimensions.convKernelSize]);
    add(`${block}lconv1d.conv_norm.weight`, [hidden]);
    add(`${block}lconv1d.linear_end.weight`, [hidden, hidden]);
    add(`${block}norm.weight`, [hidden]);
  }
  return tensors;
}
