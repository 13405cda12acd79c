/*
 * Test-only helpers for the audio reference: a tiny audio config and seeded random weights
 * under the checkpoint names of §6. (The product generator is in @gemma3n/convert, which
 * depends on this package and cannot be imported here.)
 */
import { parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { seededRandom } from '../test-support/tiny-model';
import type { WeightLookup } from '../weight-lookup';
import { audioEncoderDimensions, audioTowerPrefix } from './audio-encoder-dimensions';

/** Text hidden 16; audio hidden 16 (2 heads of 8), 2 layers, SSCP channels [4, 3], 20 mel bins. */
export function tinyAudioConfig(audioOverrides: Record<string, unknown> = {}): Gemma3nConfig {
  return parseGemma3nConfig({
    model_type: 'gemma3n',
    architectures: ['Gemma3nForConditionalGeneration'],
    text_config: { model_type: 'gemma3n_text', hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8 },
    audio_config: {
      model_type: 'gemma3n_audio',
      hidden_size: 16,
      conf_num_attention_heads: 2,
      conf_num_hidden_layers: 2,
      sscp_conv_channel_size: [4, 3],
      input_feat_size: 20,
      ...audioOverrides,
    },
  });
}

/** Every audio tensor (tower and embed_audio) the config implies, with its shape. */
export function tinyAudioTensorShapes(config: Gemma3nConfig): Map<string, number[]> {
  const dimensions = audioEncoderDimensions(config);
  const hidden = dimensions.hiddenSize;
  const shapes = new Map<string, number[]>();
  let inChannels = 1;
  for (let index = 0; index < 2; index++) {
    const channels = dimensions.convChannels[index]!;
    shapes.set(`${audioTowerPrefix}subsample_conv_projection.conv_${index}.conv.weight`, [channels, inChannels, ...dimensions.convKernels[index]!]);
    shapes.set(`${audioTowerPrefix}subsample_conv_projection.conv_${index}.norm.weight`, [channels]);
    inChannels = channels;
  }
  shapes.set(`${audioTowerPrefix}subsample_conv_projection.input_proj_linear.weight`, [hidden, dimensions.projectionInputSize]);
  for (let layer = 0; layer < dimensions.layerCount; layer++) {
    const prefix = `${audioTowerPrefix}conformer.${layer}.`;
    for (const name of ['ffw_layer_start', 'ffw_layer_end']) {
      shapes.set(`${prefix}${name}.pre_layer_norm.weight`, [hidden]);
      shapes.set(`${prefix}${name}.ffw_layer_1.weight`, [4 * hidden, hidden]);
      shapes.set(`${prefix}${name}.ffw_layer_2.weight`, [hidden, 4 * hidden]);
      shapes.set(`${prefix}${name}.post_layer_norm.weight`, [hidden]);
    }
    for (const name of ['pre_attn_norm', 'post_norm']) shapes.set(`${prefix}attention.${name}.weight`, [hidden]);
    for (const name of ['q_proj', 'k_proj', 'v_proj']) shapes.set(`${prefix}attention.attn.${name}.weight`, [hidden, hidden]);
    shapes.set(`${prefix}attention.attn.per_dim_scale`, [dimensions.headDim]);
    shapes.set(`${prefix}attention.attn.relative_position_embedding.pos_proj.weight`, [hidden, hidden]);
    shapes.set(`${prefix}attention.post.weight`, [hidden, hidden]);
    shapes.set(`${prefix}lconv1d.pre_layer_norm.weight`, [hidden]);
    shapes.set(`${prefix}lconv1d.linear_start.weight`, [2 * hidden, hidden]);
    shapes.set(`${prefix}lconv1d.depthwise_conv1d.weight`, [hidden, 1, dimensions.convKernelSize]);
    shapes.set(`${prefix}lconv1d.conv_norm.weight`, [hidden]);
    shapes.set(`${prefix}lconv1d.linear_end.weight`, [hidden, hidden]);
    shapes.set(`${prefix}norm.weight`, [hidden]);
  }
  const audio = config.audio!;
  shapes.set('model.embed_audio.embedding.weight', [audio.vocabSize, hidden]);
  shapes.set('model.embed_audio.hard_embedding_norm.weight', [hidden]);
  shapes.set('model.embed_audio.soft_embedding_norm.weight', [hidden]);
  shapes.set('model.embed_audio.embedding_projection.weight', [config.text.hiddenSize, hidden]);
  return shapes;
}

/**
 * Seeded weights: norms 1 + 0.1·u, per_dim_scale around 0 (so softplus varies), other tensors
 * uniform with variance 1/fan-in. The lookup throws for a name the config does not imply.
 */
export function tinyAudioWeights(config: Gemma3nConfig, seed: number): WeightLookup {
  const random = seededRandom(seed);
  const tensors = new Map<string, Float32Array>();
  for (const [name, shape] of tinyAudioTensorShapes(config)) {
    const count = shape.reduce((product, size) => product * size, 1);
    const fanIn = shape.slice(1).reduce((product, size) => product * size, 1);
    const isNorm = name.endsWith('norm.weight');
    const spread = isNorm ? 0.2 : name.endsWith('per_dim_scale') ? 1 : Math.sqrt(12 / fanIn);
    tensors.set(name, Float32Array.from({ length: count }, () => (isNorm ? 1 : 0) + spread * (random() - 0.5)));
  }
  return (name) => {
    const tensor = tensors.get(name);
    if (!tensor) throw new Error(`no test weight ${name}`);
    return tensor;
  };
}

/** Log-mel-like features `[frames, bins]`: a smooth spectral tilt plus noise, around −4. */
export function tinyAudioFeatures(frames: number, bins: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: frames * bins }, (_, index) => -4 + Math.sin(index / 7) - (index % bins) / bins + 2 * random());
}
