import type { Gemma3nTextConfig } from '@gemma3n/core';
import type { GraphScope } from '../onnx/onnx-graph-builder';
import { sliceFrom } from '../text/attention-masks';
import type { TextGraphContext } from '../text/text-graph-context';
import type { LayerWeightNames } from '../text/text-weight-names';
import { applyRotaryEmbedding, type GroupQueryAttentionInputs, type RotaryCache } from './attention-inputs';
import { MICROSOFT_DOMAIN, onesWeight, simplifiedNorm } from './fused-norms';

/**
 * How KV-sharing consumer layers attend over their producer's cache (ort-op-support.md §5):
 * - `matmul` (option D): Reshape/Transpose/MatMul/Softmax over the producer's present with the
 *   query heads grouped per KV head: no KV copy, runs on every EP;
 * - `group-query-attention` (option A): a GroupQueryAttention node with zero new K/V and the
 *   producer's present as its past (it copies that past into a present it throws away).
 */
export type ConsumerAttention = 'matmul' | 'group-query-attention';

/** A producer layer's present K/V [B, Hkv, T, hd] and, lazily, their forms for option D. */
export interface ProducedKeyValues {
  presentKey: string;
  presentValue: string;
  /** Option D: keys [B, Hkv, 1, hd, T'] and values [B, Hkv, 1, T', hd], built once per producer. */
  grouped?: { keyForScores: string; valueForWeights: string };
}

export interface AttentionBlockInputs {
  x: string;
  /** Sliding layers: local window (keys including the current one); null on full layers. */
  slidingWindow: number | null;
  rotary: RotaryCache;
  groupQueryAttention: GroupQueryAttentionInputs;
  source:
    | { kind: 'own'; pastKey: string; pastValue: string; presentKey: string; presentValue: string }
    | {
        kind: 'shared';
        producer: ProducedKeyValues;
        consumerAttention: ConsumerAttention;
        /** Option D: the compat bool mask [B, 1, 1, S, T'] (sliding layers: keys from the window start on). */
        mask: string | null;
      };
}

const MASKED_SCORE = -3.4028234663852886e38;

/**
 * Gemma 3n self-attention (§1.6) with fused ops: q/k/v projections, per-head
 * SimplifiedLayerNormalization (q_norm, k_norm; v_norm with a weight of ones), then
 * com.microsoft RotaryEmbedding on q and k — RoPE after the norms, which is why GQA's own
 * `do_rotary` is not used — and one GroupQueryAttention (scale 1.0, `local_window_size` on
 * sliding layers, BNSH past/present under the contract names, no KV-head expansion).
 */
export async function buildFusedAttention(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  inputs: AttentionBlockInputs,
): Promise<{ output: string; produced: ProducedKeyValues | null }> {
  const { hiddenSize: hidden, numAttentionHeads: heads, numKeyValueHeads: keyValueHeads, headDim, rmsNormEps: epsilon } = text;
  const attention = scope.scope('attn');
  const { x, source } = inputs;

  const headNorm = async (name: string, projected: string, headCount: number, weight: string): Promise<string> => {
    const perHead = attention.op('Reshape', [projected, attention.int64([0, 0, headCount, headDim])], { name: `${name}/SplitHeads` });
    const normed = simplifiedNorm(attention, name, perHead, weight, epsilon);
    return attention.op('Reshape', [normed, attention.int64([0, 0, headCount * headDim])], { name: `${name}/MergeHeads` });
  };

  const queryProjected = await context.linear(attention, 'q_proj', x, names.qProj, hidden, heads * headDim);
  const queryNormWeight = await context.vector(attention, 'q_norm/weight', names.qNorm, headDim);
  const queryNormed = await headNorm('q_norm', queryProjected, heads, queryNormWeight);
  const query = applyRotaryEmbedding(attention, 'q/RotaryEmbedding', queryNormed, inputs.rotary);

  const attentionAttributes = {
    num_heads: heads,
    kv_num_heads: keyValueHeads,
    scale: { float: 1 },
    ...(inputs.slidingWindow === null ? {} : { local_window_size: inputs.slidingWindow }),
  };
  const gqa = inputs.groupQueryAttention;

  let attended: string;
  let produced: ProducedKeyValues | null = null;
  if (source.kind === 'own') {
    const keyProjected = await context.linear(attention, 'k_proj', x, names.kProj, hidden, keyValueHeads * headDim);
    const keyNormWeight = await context.vector(attention, 'k_norm/weight', names.kNorm, headDim);
    const keyNormed = await headNorm('k_norm', keyProjected, keyValueHeads, keyNormWeight);
    const key = applyRotaryEmbedding(attention, 'k/RotaryEmbedding', keyNormed, inputs.rotary);
    const valueProjected = await context.linear(attention, 'v_proj', x, names.vProj, hidden, keyValueHeads * headDim);
    const value = await headNorm('v_norm', valueProjected, keyValueHeads, await onesWeight(attention, 'v_norm/weight', headDim));
    const outputs = attention.node(
      'GroupQueryAttention',
      [query, key, value, source.pastKey, source.pastValue, gqa.seqlensK, gqa.totalSequenceLength, '', '', '', gqa.paddingBias],
      {
        name: 'GroupQueryAttention',
        domain: MICROSOFT_DOMAIN,
        attributes: attentionAttributes,
        outputs: [`${attention.prefix}/GroupQueryAttention/output_0`, source.presentKey, source.presentValue],
      },
    );
    attended = outputs[0]!;
    produced = { presentKey: source.presentKey, presentValue: source.presentValue };
  } else if (source.consumerAttention === 'group-query-attention') {
    attended = consumerGroupQueryAttention(attention, query, source.producer, gqa, attentionAttributes, keyValueHeads * headDim);
  } else {
    if (source.mask === null) throw new Error('internal: option-D consumer attention needs the compat mask');
    attended = consumerMatMulAttention(attention, query, source.producer, source.mask, heads, keyValueHeads, headDim);
  }
  const output = await context.linear(attention, 'o_proj', attended, names.oProj, heads * headDim, hidden);
  return { output, produced };
}

/** Option A: GQA with zero new K/V tokens over the producer's present (seqlens_k = T − 1). */
function consumerGroupQueryAttention(
  attention: GraphScope,
  query: string,
  producer: ProducedKeyValues,
  gqa: GroupQueryAttentionInputs,
  attributes: Record<string, number | { float: number }>,
  keyValueWidth: number,
): string {
  const queryShape = attention.op('Shape', [query], { name: 'QueryShape' });
  const batch = attention.op('Gather', [queryShape, attention.int64([0])], { name: 'Batch', attributes: { axis: 0 } });
  const emptyShape = attention.op('Concat', [batch, attention.int64([0, keyValueWidth])], { name: 'EmptyKeyValueShape', attributes: { axis: 0 } });
  const empty = attention.op('ConstantOfShape', [emptyShape], { name: 'EmptyKeyValue', attributes: { value: { tensor: { dataType: 1, dims: [1], floatData: [0] } } } });
  const outputs = attention.node(
    'GroupQueryAttention',
    [query, empty, empty, producer.presentKey, producer.presentValue, gqa.seqlensK, gqa.totalSequenceLength, '', '', '', gqa.paddingBias],
    { name: 'GroupQueryAttention', domain: MICROSOFT_DOMAIN, attributes, outputCount: 3 },
  );
  return outputs[0]!;
}

/**
 * Option D: scores = q·Kᵀ per KV head with its query heads as one MatMul batch
 * ([B, Hkv, groups, S, hd] × [B, Hkv, 1, hd, T']), the compat bool mask applied with Where,
 * softmax, × V, back to [B, S, H·hd].
 */
function consumerMatMulAttention(
  attention: GraphScope,
  query: string,
  producer: ProducedKeyValues,
  mask: string,
  heads: number,
  keyValueHeads: number,
  headDim: number,
): string {
  const groups = heads / keyValueHeads;
  if (!producer.grouped) throw new Error('internal: the producer keys were not grouped for option D');
  const { keyForScores, valueForWeights } = producer.grouped;
  const split = attention.op('Reshape', [query, attention.int64([0, 0, keyValueHeads, groups, headDim])], { name: 'q/Group' });
  const grouped = attention.op('Transpose', [split], { name: 'q/GroupFirst', attributes: { perm: [0, 2, 3, 1, 4] } });
  const scores = attention.op('MatMul', [grouped, keyForScores], { name: 'Scores' });
  const masked = attention.op('Where', [mask, scores, attention.float32(MASKED_SCORE)], { name: 'ApplyMask' });
  const probabilities = attention.op('Softmax', [masked], { attributes: { axis: -1 } });
  const weighted = attention.op('MatMul', [probabilities, valueForWeights], { name: 'WeightedValues' });
  const sequenceFirst = attention.op('Transpose', [weighted], { name: 'o/SequenceFirst', attributes: { perm: [0, 3, 1, 2, 4] } });
  return attention.op('Reshape', [sequenceFirst, attention.int64([0, 0, heads * headDim])], { name: 'o/Flatten' });
}

/** Keys and values of a producer's present in the layout option D multiplies with (built once). */
export function groupProducedKeyValues(scope: GraphScope, produced: ProducedKeyValues, slidingKeyStart: string | null): void {
  if (produced.grouped) return;
  const keyTransposed = scope.op('Transpose', [produced.presentKey], { name: 'k/TransposeForScores', attributes: { perm: [0, 1, 3, 2] } });
  let keyForScores = scope.op('Unsqueeze', [keyTransposed, scope.int64([2])], { name: 'k/AddGroupAxis' });
  let valueForWeights = scope.op('Unsqueeze', [produced.presentValue, scope.int64([2])], { name: 'v/AddGroupAxis' });
  if (slidingKeyStart !== null) {
    keyForScores = sliceFrom(scope, 'k/Window', keyForScores, slidingKeyStart, 4);
    valueForWeights = sliceFrom(scope, 'v/Window', valueForWeights, slidingKeyStart, 3);
  }
  produced.grouped = { keyForScores, valueForWeights };
}
