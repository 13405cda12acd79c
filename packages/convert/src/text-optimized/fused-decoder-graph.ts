import { kvSharingPlan, type Gemma3nConfig, type LayerType } from '@gemma3n/core';
import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import type { TensorSource } from '../tensor-source';
import { altupInitialStreams } from '../text/altup-block';
import { buildAttentionMasks, type AttentionMasks } from '../text/attention-masks';
import {
  buildDecoderOutput,
  declareDecoderInputs,
  declarePresentOutputs,
  decoderTensorCount,
  ownCacheNames,
  validateTextConfig,
} from '../text/decoder-graph';
import { buildPerLayerInputs, perLayerInputOf } from '../text/per-layer-inputs-block';
import { TextGraphContext, type TextGraphBuildOptions } from '../text/text-graph-context';
import { textWeightNames } from '../text/text-weight-names';
import { buildGroupQueryAttentionInputs, buildRotaryCache, rotaryRowIds, type RotaryCache } from './attention-inputs';
import { groupProducedKeyValues, type ConsumerAttention, type ProducedKeyValues } from './fused-attention-block';
import { buildFusedDecoderLayer } from './fused-decoder-layer';
import { simplifiedNorm } from './fused-norms';

/**
 * How the tied lm_head multiplies by the token table:
 * - `matmul-transposed-copy` (default): a [D, V] transposed initializer and MatMul, as the
 *   compat graph. Chosen because `@gemma3n/quantization` turns MatMul (not Gemm) into
 *   MatMulNBits: a Gemm lm_head would stay fp32 (2.1 GB for E2B) in a q4 folder;
 * - `gemm-transposed-b`: the table in its checkpoint layout [V, D] with `Gemm(transB=1)`, no
 *   transposed copy. Measured equal speed (fp32, 1 thread, V 65536: 25.7 vs 24.4 ms at 1 row,
 *   58.5 vs 56.5 ms at 16, 376 vs 376 ms at 128), and [V, D] is already MatMulNBits' [N, K]
 *   layout, so it becomes the better default once the quantizer handles Gemm(transB=1).
 */
export type LmHeadLayout = 'gemm-transposed-b' | 'matmul-transposed-copy';

export interface FusedDecoderOptions extends TextGraphBuildOptions {
  /** Default `matmul` (option D): measured faster on CPU, and it runs on every EP. */
  consumerAttention?: ConsumerAttention;
  /** Default `matmul-transposed-copy` (see LmHeadLayout). */
  lmHead?: LmHeadLayout;
}

/**
 * `decoder_model_merged.onnx` of the optimized profile: the compat graph's contract (same input
 * and output names, dtypes, `batch_size`, static KV heads and head_dim, KV only for the layers
 * below the first shared one) with GroupQueryAttention, RotaryEmbedding, SimplifiedLayer-
 * Normalization and SkipSimplifiedLayerNormalization. GQA's seqlens_k / total_sequence_length
 * and its padding bias are derived in the graph from `attention_mask`, so transformers.js and
 * the runtime feed it exactly as the compat graph.
 */
export async function buildFusedDecoderGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  graph: OnnxGraphBuilder,
  options: FusedDecoderOptions = {},
): Promise<void> {
  const text = config.text;
  validateTextConfig(text);
  const plan = kvSharingPlan(text);
  const names = textWeightNames(weights);
  const context = TextGraphContext.create(graph, weights, 'decoder_model_merged', decoderTensorCount(config), options);
  const consumerAttention = options.consumerAttention ?? 'matmul';
  const { hiddenSize: hidden, headDim } = text;

  const { inputsEmbeds, perLayerInputs: perLayerInputsInput, attentionMask, positionIds, numLogitsToKeep } = declareDecoderInputs(graph, text, plan);

  const groupQueryAttention = buildGroupQueryAttentionInputs(graph, inputsEmbeds, attentionMask);
  const usesType = (type: LayerType) => text.layerTypes.includes(type);
  const rowIds = rotaryRowIds(graph, positionIds);
  const rotaryByType = new Map<LayerType, RotaryCache>();
  if (usesType('full_attention')) rotaryByType.set('full_attention', buildRotaryCache(graph.scope('/model/rotary_emb/full'), positionIds, rowIds, headDim, text.ropeTheta));
  if (usesType('sliding_attention')) rotaryByType.set('sliding_attention', buildRotaryCache(graph.scope('/model/rotary_emb/sliding'), positionIds, rowIds, headDim, text.ropeLocalBaseFreq));

  // Option D consumers need the compat bool masks (only the types that have consumers).
  const consumerTypes = new Set(plan.layers.filter((layer) => !layer.storesKv).map((layer) => layer.layerType));
  const masks: AttentionMasks | null =
    consumerAttention === 'matmul' && consumerTypes.size > 0
      ? buildAttentionMasks(graph, inputsEmbeds, attentionMask, {
          needFull: consumerTypes.has('full_attention'),
          needSliding: consumerTypes.has('sliding_attention'),
          slidingWindow: text.slidingWindow,
        })
      : null;

  const combinedPerLayerInputs = await buildPerLayerInputs(context, text, names, inputsEmbeds, perLayerInputsInput);
  let streams = await altupInitialStreams(context, graph.scope('/model'), text, names.altupProjection, inputsEmbeds);

  const produced = new Map<number, ProducedKeyValues>();
  for (const layerPlan of plan.layers) {
    const layer = layerPlan.layerIndex;
    const sliding = layerPlan.layerType === 'sliding_attention';
    const rotary = rotaryByType.get(layerPlan.layerType);
    if (!rotary) throw new Error(`internal: no RoPE cache built for ${layerPlan.layerType}`);
    let source;
    if (layerPlan.storesKv) {
      source = ownCacheNames(layer);
    } else {
      const producer = layerPlan.producerLayer === null ? undefined : produced.get(layerPlan.producerLayer);
      if (!producer) throw new Error(`internal: layer ${layer} shares K/V of layer ${layerPlan.producerLayer}, not built yet`);
      let mask: string | null = null;
      if (masks) {
        mask = sliding ? masks.sliding : masks.full;
        groupProducedKeyValues(graph.scope(`/model/layers.${layerPlan.producerLayer}/attn/shared`), producer, sliding ? masks.slidingKeyStart : null);
      }
      source = { kind: 'shared' as const, producer, consumerAttention, mask };
    }
    const result = await buildFusedDecoderLayer(context, text, names.layer(layer), {
      layerIndex: layer,
      streams,
      perLayerInput: perLayerInputOf(context, combinedPerLayerInputs, layer),
      attention: { slidingWindow: sliding ? text.slidingWindow : null, rotary, groupQueryAttention, source },
    });
    streams = result.streams;
    if (result.produced) produced.set(layer, result.produced);
  }

  declarePresentOutputs(graph, text, plan);
  const output = graph.scope('/model/output');
  const embedsShape = output.op('Shape', [inputsEmbeds], { name: 'EmbedsShape' });
  const sequenceLength = output.op('Gather', [embedsShape, output.int64([1], [])], { name: 'SequenceLength', attributes: { axis: 0 } });
  await buildDecoderOutput(context, text, names, streams, sequenceLength, numLogitsToKeep, {
    norm: simplifiedNorm,
    lmHead: (scope, normed) => lmHead(context, scope, names.embedTokens, normed, hidden, text.vocabSize, options.lmHead ?? 'matmul-transposed-copy'),
  });
}

/** Tied lm_head: h [B, n, D] times the token table, [B, n, V]. */
async function lmHead(context: TextGraphContext, scope: GraphScope, tableName: string, normed: string, hidden: number, vocab: number, layout: LmHeadLayout): Promise<string> {
  if (layout === 'matmul-transposed-copy') return context.linear(scope, 'lm_head', normed, tableName, hidden, vocab);
  // Gemm is 2-D only: [B·n, D] × [V, D]ᵀ, then back to [B, n, V].
  const table = await context.table(scope, 'lm_head/weight', tableName, vocab, hidden);
  const rows = scope.op('Reshape', [normed, scope.int64([-1, hidden])], { name: 'lm_head/Rows' });
  const product = scope.op('Gemm', [rows, table], { name: 'lm_head/Gemm', attributes: { transB: 1 } });
  const leading = scope.op('Slice', [scope.op('Shape', [normed], { name: 'lm_head/InputShape' }), scope.int64([0]), scope.int64([2]), scope.int64([0])], { name: 'lm_head/LeadingDims' });
  const shape = scope.op('Concat', [leading, scope.int64([vocab])], { name: 'lm_head/OutputShape', attributes: { axis: 0 } });
  return scope.op('Reshape', [product, shape], { name: 'lm_head/Logits' });
}
