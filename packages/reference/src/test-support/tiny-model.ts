/*
 * Test-only helpers: hand-built configs and seeded random weights for the reference's own tests.
 * (The product weight generator lives in @gemma3n/convert, which depends on this package, so it
 * cannot be imported here.)
 */
import type { Gemma3nConfig, Gemma3nTextConfig, LayerType } from '@gemma3n/core';
import { layerWeightName, textWeightName, type WeightLookup } from '../weight-lookup';

/** Mulberry32: a tiny, seeded, well-mixed 32-bit generator; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}


/**
 * A small text config (D 32, L 10, V 440); every field can be overridden. Full layers where
 * (i + 1) % 5 == 0, as in E2B. Vision ids [400, 420), audio ids [420, 440), PLE table 400 rows.
 */
export function tinyConfig(overrides: Partial<Gemma3nTextConfig> = {}, vocabularyOffsets = { vision: 400, audio: 420, modalitySize: 20 }): Gemma3nConfig {
  const layerCount = overrides.numHiddenLayers ?? 10;
  const layerTypes: LayerType[] = Array.from({ length: layerCount }, (_, index) => ((index + 1) % 5 === 0 ? 'full_attention' : 'sliding_attention'));
  const text: Gemma3nTextConfig = {
    vocabSize: vocabularyOffsets.audio + vocabularyOffsets.modalitySize,
    vocabSizePerLayerInput: vocabularyOffsets.vision,
    hiddenSize: 32,
    hiddenSizePerLayerInput: 8,
    numHiddenLayers: layerCount,
    intermediateSize: Array.from({ length: layerCount }, (_, index) => 48 + 8 * (index % 2)),
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    headDim: 8,
    // F = 7: layers 7 and 8 (sliding) read layer 6, layer 9 (full) reads layer 4.
    numKvSharedLayers: 3,
    activationSparsityPattern: Array.from({ length: layerCount }, (_, index) => (index < 2 ? 0.95 : 0)),
    layerTypes,
    slidingWindow: 4,
    ropeTheta: 1e6,
    ropeLocalBaseFreq: 1e4,
    maxPositionEmbeddings: 512,
    rmsNormEps: 1e-6,
    altupNumInputs: 4,
    altupActiveIdx: 0,
    altupCoefClip: 120,
    altupCorrectScale: true,
    laurelRank: 4,
    hiddenActivation: 'gelu_pytorch_tanh',
    finalLogitSoftcapping: 30,
    attnLogitSoftcapping: null,
    tieWordEmbeddings: true,
    padTokenId: 0,
    eosTokenId: [1, 106],
    bosTokenId: 2,
    ...overrides,
  };
  return {
    modelType: 'gemma3n',
    architectures: ['Gemma3nForConditionalGeneration'],
    imageTokenId: vocabularyOffsets.vision + 1,
    audioTokenId: vocabularyOffsets.audio + 1,
    boiTokenId: 255,
    eoiTokenId: vocabularyOffsets.vision,
    boaTokenId: 256,
    eoaTokenId: vocabularyOffsets.audio,
    visionSoftTokensPerImage: 4,
    audioSoftTokensPerImage: 3,
    text,
    vision: { hiddenSize: 24, vocabSize: vocabularyOffsets.modalitySize, vocabOffset: vocabularyOffsets.vision, rmsNormEps: 1e-6, raw: {} },
    audio: {
      hiddenSize: 16, vocabSize: vocabularyOffsets.modalitySize, vocabOffset: vocabularyOffsets.audio, rmsNormEps: 1e-6,
      inputFeatSize: 128, confNumAttentionHeads: 2, confNumHiddenLayers: 1, confAttentionChunkSize: 12,
      confAttentionContextLeft: 13, confAttentionContextRight: 0, confAttentionLogitCap: 50, confConvKernelSize: 5,
      confReductionFactor: 4, sscpConvChannelSize: [8, 4], sscpConvKernelSize: [[3, 3], [3, 3]],
      sscpConvStrideSize: [[2, 2], [2, 2]], sscpConvGroupNormEps: 1e-3, raw: {},
    },
    raw: {},
  };
}

export interface TinyWeights {
  lookup: WeightLookup;
  tensors: Map<string, Float32Array>;
  /** Names the forward looked up, to check that (for example) consumers never read k_proj. */
  requested: Set<string>;
}

/**
 * Random weights for every tensor of `config` (§6 names and shapes): Linear weights uniform in
 * ±sqrt(3/in) (unit variance outputs), norm weights in [0.5, 1.5], correct_output_scale and
 * AltUp coefficients small, as in trained checkpoints.
 */
export function tinyWeights(config: Gemma3nConfig, seed = 1): TinyWeights {
  const random = seededRandom(seed);
  const tensors = new Map<string, Float32Array>();
  const uniform = (name: string, length: number, low: number, high: number) => {
    tensors.set(name, Float32Array.from({ length }, () => low + (high - low) * random()));
  };
  const linearWeight = (name: string, outFeatures: number, inFeatures: number, gain = 1) => {
    const bound = gain * Math.sqrt(3 / inFeatures);
    uniform(name, outFeatures * inFeatures, -bound, bound);
  };
  const norm = (name: string, width: number) => uniform(name, width, 0.5, 1.5);
  const text = config.text;
  const { hiddenSize: hidden, hiddenSizePerLayerInput: perLayer, numHiddenLayers: layerCount, headDim } = text;
  const streams = text.altupNumInputs;
  uniform(textWeightName('embed_tokens.weight'), text.vocabSize * hidden, -0.2, 0.2);
  uniform(textWeightName('embed_tokens_per_layer.weight'), text.vocabSizePerLayerInput * layerCount * perLayer, -0.5, 0.5);
  linearWeight(textWeightName('per_layer_model_projection.weight'), layerCount * perLayer, hidden);
  norm(textWeightName('per_layer_projection_norm.weight'), perLayer);
  for (let index = 0; index < streams - 1; index++) {
    linearWeight(textWeightName(`altup_projections.${index}.weight`), hidden, hidden);
    linearWeight(textWeightName(`altup_unembed_projections.${index}.weight`), hidden, hidden);
  }
  norm(textWeightName('norm.weight'), hidden);
  for (let layer = 0; layer < layerCount; layer++) {
    const name = (suffix: string) => layerWeightName(layer, suffix);
    const intermediate = text.intermediateSize[layer]!;
    linearWeight(name('self_attn.q_proj.weight'), text.numAttentionHeads * headDim, hidden);
    linearWeight(name('self_attn.k_proj.weight'), text.numKeyValueHeads * headDim, hidden);
    linearWeight(name('self_attn.v_proj.weight'), text.numKeyValueHeads * headDim, hidden);
    linearWeight(name('self_attn.o_proj.weight'), hidden, text.numAttentionHeads * headDim);
    // q/k norms near 0.5 keep q·k (scaling 1.0, no 1/sqrt(hd)) in a range where softmax is not one-hot.
    uniform(name('self_attn.q_norm.weight'), headDim, 0.3, 0.7);
    uniform(name('self_attn.k_norm.weight'), headDim, 0.3, 0.7);
    linearWeight(name('mlp.gate_proj.weight'), intermediate, hidden);
    linearWeight(name('mlp.up_proj.weight'), intermediate, hidden);
    linearWeight(name('mlp.down_proj.weight'), hidden, intermediate);
    for (const suffix of ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm', 'altup.router_norm', 'laurel.post_laurel_norm', 'post_per_layer_input_norm']) {
      norm(name(`${suffix}.weight`), hidden);
    }
    uniform(name('altup.correct_output_scale'), hidden, -1, 1);
    uniform(name('altup.correction_coefs.weight'), streams * streams, -0.5, 0.5);
    uniform(name('altup.prediction_coefs.weight'), streams * streams * streams, -0.5, 0.5);
    linearWeight(name('altup.modality_router.weight'), streams, hidden, 4);
    linearWeight(name('laurel.linear_left.weight'), text.laurelRank, hidden);
    linearWeight(name('laurel.linear_right.weight'), hidden, text.laurelRank);
    linearWeight(name('per_layer_input_gate.weight'), perLayer, hidden);
    linearWeight(name('per_layer_projection.weight'), hidden, perLayer);
  }
  for (const [modality, modalityConfig] of [['vision', config.vision], ['audio', config.audio]] as const) {
    if (modalityConfig === null) continue;
    uniform(`model.embed_${modality}.embedding.weight`, modalityConfig.vocabSize * modalityConfig.hiddenSize, -1, 1);
    norm(`model.embed_${modality}.hard_embedding_norm.weight`, modalityConfig.hiddenSize);
    norm(`model.embed_${modality}.soft_embedding_norm.weight`, modalityConfig.hiddenSize);
    linearWeight(`model.embed_${modality}.embedding_projection.weight`, hidden, modalityConfig.hiddenSize);
  }
  const requested = new Set<string>();
  const lookup: WeightLookup = (name) => {
    const tensor = tensors.get(name);
    if (tensor === undefined) throw new Error(`tiny weights have no tensor ${name}`);
    requested.add(name);
    return tensor;
  };
  return { lookup, tensors, requested };
}
