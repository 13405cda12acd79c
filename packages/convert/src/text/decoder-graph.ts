import { kvSharingPlan, type Gemma3nConfig, type Gemma3nTextConfig, type KvSharingPlan, type LayerType } from '@gemma3n/core';
import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import type { TensorSource } from '../tensor-source';
import { altupInitialStreams, altupUnembed } from './altup-block';
import { buildAttentionMasks, sliceFrom } from './attention-masks';
import type { LayerKeyValues } from './attention-block';
import { buildDecoderLayer } from './decoder-layer';
import { buildPerLayerInputs, perLayerInputOf } from './per-layer-inputs-block';
import { buildRotaryTables, type RotaryTables } from './rotary-embedding';
import { rmsNorm, TextGraphContext, type RmsNormBuilder, type TextGraphBuildOptions } from './text-graph-context';
import { textWeightNames, type TextWeightNames } from './text-weight-names';

/**
 * Checkpoint tensors read per layer: q_proj, o_proj, q_norm; the MLP's three; four norms;
 * AltUp router norm, router, prediction and correction coefficients (+ correct_output_scale);
 * Laurel's three; the per-layer gate, projection and norm; + k_proj, v_proj, k_norm when the
 * layer computes its own K/V.
 */
function layerTensorCount(text: Gemma3nTextConfig, storesKv: boolean): number {
  const common = 3 + 3 + 4 + 4 + (text.altupCorrectScale ? 1 : 0) + 3 + 3;
  return storesKv ? common + 3 : common;
}

/** How many checkpoint tensors `buildDecoderGraph` reads (for progress totals). */
export function decoderTensorCount(config: Gemma3nConfig): number {
  const plan = kvSharingPlan(config.text);
  const text = config.text;
  const layers = plan.layers.reduce((sum, layer) => sum + layerTensorCount(text, layer.storesKv), 0);
  // per-layer projection + its norm, AltUp (N−1) in and (N−1) out, final norm, tied lm_head.
  return layers + 2 + 2 * (text.altupNumInputs - 1) + 1 + 1;
}

export function pastKeyName(layer: number): string {
  return `past_key_values.${layer}.key`;
}
export function pastValueName(layer: number): string {
  return `past_key_values.${layer}.value`;
}
export function presentKeyName(layer: number): string {
  return `present.${layer}.key`;
}
export function presentValueName(layer: number): string {
  return `present.${layer}.value`;
}

/** Rejects configs the graph cannot represent, naming the field. */
export function validateTextConfig(text: Gemma3nTextConfig): void {
  const layers = text.numHiddenLayers;
  const perLayer: [string, unknown[]][] = [
    ['intermediate_size', text.intermediateSize],
    ['activation_sparsity_pattern', text.activationSparsityPattern],
    ['layer_types', text.layerTypes],
  ];
  for (const [field, values] of perLayer) {
    if (values.length !== layers) {
      throw new Error(`text_config.${field} has ${values.length} entries, expected one per layer (${layers})`);
    }
  }
  if (text.numAttentionHeads % text.numKeyValueHeads !== 0) {
    throw new Error(
      `text_config.num_attention_heads (${text.numAttentionHeads}) must be a multiple of num_key_value_heads (${text.numKeyValueHeads})`,
    );
  }
  if (text.headDim % 2 !== 0) throw new Error(`text_config.head_dim must be even for RoPE, got ${text.headDim}`);
  if (text.hiddenActivation !== 'gelu_pytorch_tanh') {
    throw new Error(`text_config.hidden_activation ${JSON.stringify(text.hiddenActivation)} is not supported; expected "gelu_pytorch_tanh"`);
  }
  if (text.altupActiveIdx < 0 || text.altupActiveIdx >= text.altupNumInputs) {
    throw new Error(`text_config.altup_active_idx ${text.altupActiveIdx} is outside [0, altup_num_inputs = ${text.altupNumInputs})`);
  }
  if (!text.tieWordEmbeddings) {
    throw new Error('text_config.tie_word_embeddings is false: untied lm_head weights are not supported yet');
  }
}

/**
 * `decoder_model_merged.onnx` (model-folder contract):
 * inputs `inputs_embeds` [batch_size, sequence_length, D], `per_layer_inputs` [B, S, L, P],
 * `attention_mask` int64 [B, total_sequence_length], `position_ids` int64 [B, S],
 * `num_logits_to_keep` int64 scalar (0 = every position, n > 0 = the last n), and
 * `past_key_values.{i}.key/.value` [B, Hkv, past_sequence_length, hd] for every layer i that
 * stores K/V (i < L − num_kv_shared_layers); outputs `logits` [B, num_logits, V] and
 * `present.{i}.key/.value` [B, Hkv, total_sequence_length, hd].
 */
export async function buildDecoderGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  graph: OnnxGraphBuilder,
  options: TextGraphBuildOptions = {},
): Promise<void> {
  const text = config.text;
  validateTextConfig(text);
  const plan: KvSharingPlan = kvSharingPlan(text);
  const names = textWeightNames(weights);
  const context = TextGraphContext.create(graph, weights, 'decoder_model_merged', decoderTensorCount(config), options);
  const { hiddenSize: hidden, headDim } = text;

  const { inputsEmbeds, perLayerInputs: perLayerInputsInput, attentionMask, positionIds, numLogitsToKeep } = declareDecoderInputs(graph, text, plan);

  const usesType = (type: LayerType) => text.layerTypes.includes(type);
  const masks = buildAttentionMasks(graph, inputsEmbeds, attentionMask, {
    needFull: usesType('full_attention'),
    needSliding: usesType('sliding_attention'),
    slidingWindow: text.slidingWindow,
  });
  const rotaryByType = new Map<LayerType, RotaryTables>();
  if (usesType('full_attention')) {
    rotaryByType.set('full_attention', buildRotaryTables(graph.scope('/model/rotary_emb/full'), positionIds, headDim, text.ropeTheta));
  }
  if (usesType('sliding_attention')) {
    rotaryByType.set('sliding_attention', buildRotaryTables(graph.scope('/model/rotary_emb/sliding'), positionIds, headDim, text.ropeLocalBaseFreq));
  }

  const combinedPerLayerInputs = await buildPerLayerInputs(context, text, names, inputsEmbeds, perLayerInputsInput);
  let streams = await altupInitialStreams(context, graph.scope('/model'), text, names.altupProjection, inputsEmbeds);

  const producedKeyValues = new Map<number, LayerKeyValues>();
  for (const layerPlan of plan.layers) {
    const layer = layerPlan.layerIndex;
    const mask = layerPlan.layerType === 'full_attention' ? masks.full : masks.sliding;
    const rotary = rotaryByType.get(layerPlan.layerType);
    if (!mask || !rotary) throw new Error(`internal: no mask or RoPE table built for ${layerPlan.layerType}`);
    const producer = layerPlan.producerLayer === null ? undefined : producedKeyValues.get(layerPlan.producerLayer);
    if (!layerPlan.storesKv && !producer) throw new Error(`internal: layer ${layer} shares K/V of layer ${layerPlan.producerLayer}, not built yet`);
    const result = await buildDecoderLayer(context, text, names.layer(layer), {
      layerIndex: layer,
      layerType: layerPlan.layerType,
      streams,
      perLayerInput: perLayerInputOf(context, combinedPerLayerInputs, layer),
      rotary,
      mask,
      slidingKeyStart: layerPlan.layerType === 'sliding_attention' ? masks.slidingKeyStart : null,
      keyValueSource: producer ? { kind: 'shared', producer } : ownCacheNames(layer),
    });
    streams = result.streams;
    if (layerPlan.storesKv) producedKeyValues.set(layer, result.keyValues);
  }

  declarePresentOutputs(graph, text, plan);
  await buildDecoderOutput(context, text, names, streams, masks.sequenceLength, numLogitsToKeep, {
    norm: rmsNorm,
    // Tied lm_head: the embedding table again, transposed to [D, V] (262400 × 2048 floats,
    // 2.1 GB at fp32 for the released models). Read whole and written in 16 MiB blocks, or, with
    // a `readRows` source, transposed from row blocks so the table is never held whole.
    lmHead: (scope, normed) => context.linear(scope, 'lm_head', normed, names.embedTokens, hidden, text.vocabSize),
  });
}

/** The decoder's graph inputs, in the contract's order (past K/V of the cache layers last). */
export function declareDecoderInputs(
  graph: OnnxGraphBuilder,
  text: Gemma3nTextConfig,
  plan: KvSharingPlan,
): { inputsEmbeds: string; perLayerInputs: string; attentionMask: string; positionIds: string; numLogitsToKeep: string } {
  const inputsEmbeds = graph.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', text.hiddenSize]);
  const perLayerInputs = graph.input('per_layer_inputs', 'float32', [
    'batch_size',
    'sequence_length',
    text.numHiddenLayers,
    text.hiddenSizePerLayerInput,
  ]);
  const attentionMask = graph.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = graph.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const numLogitsToKeep = graph.input('num_logits_to_keep', 'int64', []);
  const pastShape = ['batch_size', text.numKeyValueHeads, 'past_sequence_length', text.headDim];
  for (const layer of plan.cacheLayers) {
    graph.input(pastKeyName(layer), 'float32', pastShape);
    graph.input(pastValueName(layer), 'float32', pastShape);
  }
  return { inputsEmbeds, perLayerInputs, attentionMask, positionIds, numLogitsToKeep };
}

/** The cache names of a layer that computes its own K/V. */
export function ownCacheNames(layer: number): { kind: 'own'; pastKey: string; pastValue: string; presentKey: string; presentValue: string } {
  return { kind: 'own', pastKey: pastKeyName(layer), pastValue: pastValueName(layer), presentKey: presentKeyName(layer), presentValue: presentValueName(layer) };
}

export function declarePresentOutputs(graph: OnnxGraphBuilder, text: Gemma3nTextConfig, plan: KvSharingPlan): void {
  const presentShape = ['batch_size', text.numKeyValueHeads, 'total_sequence_length', text.headDim];
  for (const layer of plan.cacheLayers) {
    graph.output(presentKeyName(layer), presentKeyName(layer), 'float32', presentShape);
    graph.output(presentValueName(layer), presentValueName(layer), 'float32', presentShape);
  }
}

/**
 * From the last layer's streams to the `logits` output: keep the last positions, AltUp unembed,
 * the final norm, the tied lm_head (`lmHead`, under `/lm_head`) and the final softcap.
 */
export async function buildDecoderOutput(
  context: TextGraphContext,
  text: Gemma3nTextConfig,
  names: TextWeightNames,
  streams: string,
  sequenceLength: string,
  numLogitsToKeep: string,
  profile: { norm: RmsNormBuilder; lmHead: (scope: GraphScope, normed: string) => Promise<string> },
): Promise<void> {
  const graph = context.graph;
  // Every step after the last layer is per position, so the kept positions are sliced first:
  // prefill with num_logits_to_keep = 1 computes one row of the V-wide lm_head only.
  const output = graph.scope('/model/output');
  const keptStreams = keepLastPositions(output, streams, sequenceLength, numLogitsToKeep);
  const merged = await altupUnembed(context, graph.scope('/model'), text, names.altupUnembedProjection, keptStreams);
  const normWeight = await context.vector(output, 'norm/weight', names.finalNorm, text.hiddenSize);
  const normed = profile.norm(output, 'norm', merged, normWeight, text.rmsNormEps);
  let logits = await profile.lmHead(graph.scope('/lm_head'), normed);
  const cap = text.finalLogitSoftcapping;
  if (cap !== null && cap > 0) {
    const softcap = graph.scope('/lm_head/softcap');
    const divided = softcap.op('Div', [logits, softcap.float32(cap)]);
    const squashed = softcap.op('Tanh', [divided]);
    logits = softcap.op('Mul', [squashed, softcap.float32(cap)]);
  }
  graph.output(logits, 'logits', 'float32', ['batch_size', 'num_logits', text.vocabSize]);
}

/**
 * streams[:, :, S − n:, :] for n = num_logits_to_keep > 0 (clamped to S), every position for
 * n ≤ 0. transformers.js sends 0 for scoring and 1 for generation.
 */
function keepLastPositions(scope: GraphScope, streams: string, sequenceLength: string, numLogitsToKeep: string): string {
  const zero = scope.int64([0], []);
  const fromEnd = scope.op('Sub', [sequenceLength, numLogitsToKeep], { name: 'StartFromEnd' });
  const clamped = scope.op('Max', [fromEnd, zero], { name: 'ClampStart' });
  const positive = scope.op('Greater', [numLogitsToKeep, zero], { name: 'KeepsSome' });
  const start = scope.op('Where', [positive, clamped, zero], { name: 'Start' });
  const starts = scope.op('Reshape', [start, scope.int64([1])], { name: 'Starts' });
  return sliceFrom(scope, 'KeepPositions', streams, starts, 2);
}
