import type { Gemma3nTextConfig } from '@gemma3n/core';
import { isKvSharedLayer } from '../blocks/kv-sharing';
import { layerWeightName, readWeight, type WeightLookup } from '../weight-lookup';

/** The tensors of one decoder layer (§6 names, HF `[out, in]` layouts), checked for size. */
export interface LayerWeights {
  queryProjection: Float32Array; // [H·hd, D]
  /** Null on KV-shared layers: their k_proj/v_proj/k_norm exist in checkpoints but are unused (§1.7). */
  keyProjection: Float32Array | null; // [Hkv·hd, D]
  valueProjection: Float32Array | null; // [Hkv·hd, D]
  keyNorm: Float32Array | null; // [hd]
  outputProjection: Float32Array; // [D, H·hd]
  queryNorm: Float32Array; // [hd]
  gateProjection: Float32Array; // [I_ℓ, D]
  upProjection: Float32Array; // [I_ℓ, D]
  downProjection: Float32Array; // [D, I_ℓ]
  inputNorm: Float32Array;
  postAttentionNorm: Float32Array;
  preFeedforwardNorm: Float32Array;
  postFeedforwardNorm: Float32Array;
  correctOutputScale: Float32Array; // [D]
  correctionCoefficients: Float32Array; // [N, N]
  predictionCoefficients: Float32Array; // [N², N]
  modalityRouter: Float32Array; // [N, D]
  routerNorm: Float32Array; // [D]
  laurelLeft: Float32Array; // [rank, D]
  laurelRight: Float32Array; // [D, rank]
  postLaurelNorm: Float32Array;
  perLayerInputGate: Float32Array; // [P, D]
  perLayerProjection: Float32Array; // [D, P]
  postPerLayerInputNorm: Float32Array;
}

export function readLayerWeights(config: Gemma3nTextConfig, weights: WeightLookup, layerIndex: number): LayerWeights {
  const hidden = config.hiddenSize;
  const headDim = config.headDim;
  const queryWidth = config.numAttentionHeads * headDim;
  const keyValueWidth = config.numKeyValueHeads * headDim;
  const intermediate = config.intermediateSize[layerIndex]!;
  const streams = config.altupNumInputs;
  const perLayer = config.hiddenSizePerLayerInput;
  const read = (suffix: string, shape: number[]) => readWeight(weights, layerWeightName(layerIndex, suffix), shape);
  const shared = isKvSharedLayer(config, layerIndex);
  return {
    queryProjection: read('self_attn.q_proj.weight', [queryWidth, hidden]),
    keyProjection: shared ? null : read('self_attn.k_proj.weight', [keyValueWidth, hidden]),
    valueProjection: shared ? null : read('self_attn.v_proj.weight', [keyValueWidth, hidden]),
    keyNorm: shared ? null : read('self_attn.k_norm.weight', [headDim]),
    outputProjection: read('self_attn.o_proj.weight', [hidden, queryWidth]),
    queryNorm: read('self_attn.q_norm.weight', [headDim]),
    gateProjection: read('mlp.gate_proj.weight', [intermediate, hidden]),
    upProjection: read('mlp.up_proj.weight', [intermediate, hidden]),
    downProjection: read('mlp.down_proj.weight', [hidden, intermediate]),
    inputNorm: read('input_layernorm.weight', [hidden]),
    postAttentionNorm: read('post_attention_layernorm.weight', [hidden]),
    preFeedforwardNorm: read('pre_feedforward_layernorm.weight', [hidden]),
    postFeedforwardNorm: read('post_feedforward_layernorm.weight', [hidden]),
    // A raw nn.Parameter in HF, hence no `.weight` suffix (§6).
    correctOutputScale: read('altup.correct_output_scale', [hidden]),
    correctionCoefficients: read('altup.correction_coefs.weight', [streams, streams]),
    predictionCoefficients: read('altup.prediction_coefs.weight', [streams * streams, streams]),
    modalityRouter: read('altup.modality_router.weight', [streams, hidden]),
    routerNorm: read('altup.router_norm.weight', [hidden]),
    laurelLeft: read('laurel.linear_left.weight', [config.laurelRank, hidden]),
    laurelRight: read('laurel.linear_right.weight', [hidden, config.laurelRank]),
    postLaurelNorm: read('laurel.post_laurel_norm.weight', [hidden]),
    perLayerInputGate: read('per_layer_input_gate.weight', [perLayer, hidden]),
    perLayerProjection: read('per_layer_projection.weight', [hidden, perLayer]),
    postPerLayerInputNorm: read('post_per_layer_input_norm.weight', [hidden]),
  };
}
