/**
 * Tiny Gemma 3n `config.json` objects in the real nested Hugging Face format, for random
 * checkpoints that tests can run in milliseconds. Each shape stresses something different:
 * a sliding window shorter than test prompts, per-layer FFN widths, KV sharing with at least
 * two consumer layers of each attention type, activation sparsity on the first layers, and
 * different head counts, head sizes and GQA ratios. The multimodal hard-token ranges are
 * kept (small vision/audio vocabularies after the text base vocabulary), so id-range logic is
 * exercised with small tables.
 *
 * Token layout of the tiny vocabularies (mirrors the real one, see architecture doc §5):
 *   [0, 5)                      <pad> <eos> <bos> <unk> <mask>
 *   105, 106                    <start_of_turn>, <end_of_turn>
 *   base − 2, base − 1          <start_of_image> (boi), <start_of_audio> (boa)
 *   [base, base + visionVocab)  vision hard tokens: eoi = base, image soft token = base + 1
 *   [audioOffset, vocab)        audio hard tokens: eoa = audioOffset, audio soft token + 1
 * where base = vocab_size_per_layer_input and audioOffset = base + visionVocab.
 */

import { gemma3nAudioDefaults, gemma3nTextDefaults, gemma3nVisionDefaults } from '@gemma3n/core';
import { TINY_VISION_ARCHITECTURE, withVisionArchitecture } from '../vision/random-vision-weights';

export type RawConfig = Record<string, unknown>;

interface TinyShapeSpec {
  hiddenSize: number;
  hiddenSizePerLayerInput: number;
  numHiddenLayers: number;
  intermediateSize: number[];
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  numKvSharedLayers: number;
  /** A layer i is full attention iff (i + 1) % fullEvery == 0. */
  fullEvery: number;
  slidingWindow: number;
  sparseLayers: number;
  laurelRank: number;
  baseVocab: number;
  visionVocab: number;
  audioVocab: number;
  visionHidden: number;
  audioHidden: number;
  /** Specials of the real Gemma 3n vocabulary instead of the tiny layout. */
  realSpecialIds?: boolean;
  /** Write RoPE as the newer `rope_parameters` map instead of rope_theta/rope_local_base_freq. */
  ropeParameters?: boolean;
  finalLogitSoftcapping?: number | null;
}

/**
 * config.json of the E2B text model and embedders (no tower weights) from core's E2B defaults:
 * D 2048, P 256, 30 layers of FFN 8192, 8 query / 2 KV heads of 256, window 512, every fifth
 * layer full, the last 10 KV-shared, the first 10 sparse, the real vocabulary and special ids.
 * `overrides` give E2B-width variants (fewer layers, a smaller vocabulary) for benchmarks.
 */
export function e2bShapeConfig(overrides: Partial<TinyShapeSpec> = {}): RawConfig {
  const text = gemma3nTextDefaults;
  const layers = overrides.numHiddenLayers ?? text.numHiddenLayers;
  return buildTinyConfig({
    hiddenSize: text.hiddenSize,
    hiddenSizePerLayerInput: text.hiddenSizePerLayerInput,
    numHiddenLayers: layers,
    intermediateSize: Array.from({ length: layers }, () => text.intermediateSize),
    numAttentionHeads: text.numAttentionHeads,
    numKeyValueHeads: text.numKeyValueHeads,
    headDim: text.headDim,
    numKvSharedLayers: text.numKvSharedLayers,
    fullEvery: 5,
    slidingWindow: text.slidingWindow,
    sparseLayers: text.sparseLayerCount,
    laurelRank: text.laurelRank,
    baseVocab: text.vocabSizePerLayerInput,
    visionVocab: gemma3nVisionDefaults.vocabSize,
    audioVocab: gemma3nAudioDefaults.vocabSize,
    visionHidden: gemma3nVisionDefaults.hiddenSize,
    audioHidden: gemma3nAudioDefaults.hiddenSize,
    realSpecialIds: true,
    ...overrides,
  });
}

/** Builds one nested config.json object from a compact description. */
export function buildTinyConfig(spec: TinyShapeSpec): RawConfig {
  const layers = spec.numHiddenLayers;
  if (spec.intermediateSize.length !== layers) {
    throw new RangeError(`intermediateSize has ${spec.intermediateSize.length} entries for ${layers} layers`);
  }
  const visionOffset = spec.baseVocab;
  const audioOffset = spec.baseVocab + spec.visionVocab;
  const vocabSize = audioOffset + spec.audioVocab;
  const boiTokenId = spec.realSpecialIds ? 255_999 : spec.baseVocab - 2;
  const boaTokenId = spec.realSpecialIds ? 256_000 : spec.baseVocab - 1;
  const layerTypes = Array.from({ length: layers }, (_, index) =>
    (index + 1) % spec.fullEvery === 0 ? 'full_attention' : 'sliding_attention',
  );
  const rope: RawConfig = spec.ropeParameters
    ? {
        rope_parameters: {
          full_attention: { rope_type: 'default', rope_theta: 1_000_000.0 },
          sliding_attention: { rope_type: 'default', rope_theta: 10_000.0 },
        },
      }
    : { rope_theta: 1_000_000.0, rope_local_base_freq: 10_000.0, rope_scaling: null };

  const textConfig: RawConfig = {
    model_type: 'gemma3n_text',
    activation_sparsity_pattern: Array.from({ length: layers }, (_, index) => (index < spec.sparseLayers ? 0.95 : 0.0)),
    altup_active_idx: 0,
    altup_coef_clip: 120.0,
    altup_correct_scale: true,
    altup_lr_multiplier: 1.0,
    altup_num_inputs: 4,
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 2,
    // Instruction-tuned generation stops on <eos> and <end_of_turn>; transformers.js prefers
    // text_config's ids over the top level, so both places carry the pair.
    eos_token_id: [1, 106],
    final_logit_softcapping: spec.finalLogitSoftcapping === undefined ? 30.0 : spec.finalLogitSoftcapping,
    head_dim: spec.headDim,
    hidden_activation: 'gelu_pytorch_tanh',
    hidden_size: spec.hiddenSize,
    hidden_size_per_layer_input: spec.hiddenSizePerLayerInput,
    initializer_range: 0.02,
    intermediate_size: spec.intermediateSize,
    laurel_rank: spec.laurelRank,
    layer_types: layerTypes,
    max_position_embeddings: 32_768,
    num_attention_heads: spec.numAttentionHeads,
    num_hidden_layers: layers,
    num_key_value_heads: spec.numKeyValueHeads,
    num_kv_shared_layers: spec.numKvSharedLayers,
    pad_token_id: 0,
    query_pre_attn_scalar: spec.headDim,
    rms_norm_eps: 1e-6,
    ...rope,
    sliding_window: spec.slidingWindow,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: vocabSize,
    vocab_size_per_layer_input: spec.baseVocab,
  };
  const visionConfig: RawConfig = {
    model_type: 'gemma3n_vision',
    architecture: 'mobilenetv5_300m_enc',
    do_pooling: false,
    hidden_size: spec.visionHidden,
    initializer_range: 0.02,
    rms_norm_eps: 1e-6,
    vocab_offset: visionOffset,
    vocab_size: spec.visionVocab,
  };
  const audioConfig: RawConfig = {
    model_type: 'gemma3n_audio',
    conf_attention_chunk_size: 12,
    conf_attention_context_left: 13,
    conf_attention_context_right: 0,
    conf_attention_logit_cap: 50.0,
    conf_conv_kernel_size: 5,
    conf_num_attention_heads: 2,
    conf_num_hidden_layers: 2,
    conf_reduction_factor: 4,
    conf_residual_weight: 0.5,
    gradient_clipping: 10_000_000_000.0,
    hidden_size: spec.audioHidden,
    input_feat_size: 128,
    rms_norm_eps: 1e-6,
    sscp_conv_channel_size: [8, 4],
    sscp_conv_group_norm_eps: 0.001,
    sscp_conv_kernel_size: [
      [3, 3],
      [3, 3],
    ],
    sscp_conv_stride_size: [
      [2, 2],
      [2, 2],
    ],
    vocab_offset: audioOffset,
    vocab_size: spec.audioVocab,
  };
  return {
    architectures: ['Gemma3nForConditionalGeneration'],
    model_type: 'gemma3n',
    audio_config: audioConfig,
    audio_soft_tokens_per_image: 188,
    audio_token_id: audioOffset + 1,
    boa_token_id: boaTokenId,
    boi_token_id: boiTokenId,
    eoa_token_id: audioOffset,
    eoi_token_id: visionOffset,
    eos_token_id: [1, 106],
    image_token_id: visionOffset + 1,
    initializer_range: 0.02,
    text_config: textConfig,
    torch_dtype: 'float32',
    transformers_version: '4.53.0',
    vision_config: visionConfig,
    vision_soft_tokens_per_image: 256,
  };
}

/** The text model of tiny-window-4, shared with tiny-multimodal. */
const WINDOW_4_SPEC: TinyShapeSpec = {
  hiddenSize: 32,
  hiddenSizePerLayerInput: 8,
  numHiddenLayers: 9,
  intermediateSize: [64, 96, 64, 128, 64, 96, 48, 64, 80],
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  headDim: 8,
  numKvSharedLayers: 4,
  fullEvery: 3,
  slidingWindow: 4,
  sparseLayers: 2,
  laurelRank: 4,
  baseVocab: 320,
  visionVocab: 32,
  audioVocab: 32,
  visionHidden: 16,
  audioHidden: 24,
};

/**
 * The named shapes. KV sharing per shape (F = L − num_kv_shared_layers; producers are the last
 * layer of each type below F):
 * - tiny-window-4: L 9, full 2/5/8, F 5 → consumers 5, 8 (full, from 2) and 6, 7 (sliding, from 4).
 * - tiny-gqa-4to1: L 12, full 3/7/11, F 7 → consumers 7, 11 (full, from 3) and 8–10 (from 6).
 * - tiny-mha-every-5: L 15, full 4/9/14, F 8 → consumers 9, 14 (full, from 4) and 8, 10–13 (from 7).
 * - tiny-real-vocab: the real 262,400-token vocabulary and special ids, text tables of width 32.
 * - tiny-multimodal: tiny-window-4's text model (same text weights for a seed) with both towers:
 *   the tiny MobileNetV5 of TINY_VISION_ARCHITECTURE (96×96 in, 4 tokens per image) and the
 *   2-layer audio conformer of audio_config (188 tokens per clip, as released).
 */
export const TINY_TEXT_SHAPES = {
  'tiny-window-4': buildTinyConfig(WINDOW_4_SPEC),
  'tiny-gqa-4to1': buildTinyConfig({
    hiddenSize: 48,
    hiddenSizePerLayerInput: 6,
    numHiddenLayers: 12,
    intermediateSize: [96, 96, 128, 64, 96, 160, 96, 64, 128, 96, 64, 96],
    numAttentionHeads: 4,
    numKeyValueHeads: 1,
    headDim: 16,
    numKvSharedLayers: 5,
    fullEvery: 4,
    slidingWindow: 6,
    sparseLayers: 3,
    laurelRank: 8,
    baseVocab: 352,
    visionVocab: 48,
    audioVocab: 48,
    visionHidden: 24,
    audioHidden: 20,
  }),
  'tiny-mha-every-5': buildTinyConfig({
    hiddenSize: 64,
    hiddenSizePerLayerInput: 4,
    numHiddenLayers: 15,
    intermediateSize: [128, 128, 128, 192, 128, 96, 128, 128, 64, 128, 160, 128, 128, 96, 128],
    numAttentionHeads: 2,
    numKeyValueHeads: 2,
    headDim: 32,
    numKvSharedLayers: 7,
    fullEvery: 5,
    slidingWindow: 8,
    sparseLayers: 4,
    laurelRank: 8,
    baseVocab: 300,
    visionVocab: 16,
    audioVocab: 20,
    visionHidden: 32,
    audioHidden: 16,
    ropeParameters: true,
  }),
  'tiny-real-vocab': buildTinyConfig({
    hiddenSize: 32,
    hiddenSizePerLayerInput: 4,
    numHiddenLayers: 9,
    intermediateSize: [64, 64, 96, 64, 64, 96, 64, 64, 64],
    numAttentionHeads: 2,
    numKeyValueHeads: 1,
    headDim: 16,
    numKvSharedLayers: 4,
    fullEvery: 3,
    slidingWindow: 8,
    sparseLayers: 2,
    laurelRank: 4,
    baseVocab: 262_144,
    visionVocab: 128,
    audioVocab: 128,
    visionHidden: 16,
    audioHidden: 16,
    realSpecialIds: true,
  }),
  'tiny-multimodal': withVisionArchitecture(buildTinyConfig(WINDOW_4_SPEC), TINY_VISION_ARCHITECTURE),
} as const satisfies Record<string, RawConfig>;

export type TinyShapeName = keyof typeof TINY_TEXT_SHAPES;

export const TINY_SHAPE_NAMES = Object.keys(TINY_TEXT_SHAPES) as TinyShapeName[];

/**
 * Shapes whose random checkpoints carry the vision and audio towers (so the converter writes
 * all four ONNX files). The other shapes' vision configs name the 300M tower at a tiny width,
 * which cannot be built; they stay text-only.
 */
export const TINY_SHAPES_WITH_TOWERS: readonly TinyShapeName[] = ['tiny-multimodal'];

/** A deep copy of a named shape's config.json, safe for the caller to edit. */
export function tinyShapeConfig(name: TinyShapeName): RawConfig {
  const shape = TINY_TEXT_SHAPES[name] as RawConfig | undefined;
  if (shape === undefined) {
    throw new RangeError(`unknown tiny shape "${String(name)}"; known shapes: ${TINY_SHAPE_NAMES.join(', ')}`);
  }
  return structuredClone(shape);
}
