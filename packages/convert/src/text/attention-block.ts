import type { Gemma3nTextConfig } from '@gemma3n/core';
import type { GraphScope } from '../onnx/onnx-graph-builder';
import { sliceFrom } from './attention-masks';
import { applyRotary, type RotaryTables } from './rotary-embedding';
import { rmsNorm, type TextGraphContext } from './text-graph-context';
import type { LayerWeightNames } from './text-weight-names';

/** A layer's full keys and values (past + new), [B, Hkv, T, hd], as stored in the cache. */
export interface LayerKeyValues {
  key: string;
  value: string;
  /**
   * Keys reshaped for the grouped score MatMul, [B, Hkv, 1, hd, T'], shared with consumers.
   * T' = T for full layers; sliding layers keep only the keys from `slidingKeyStart` on.
   */
  keyForScores: string;
  /** Values as [B, Hkv, 1, T', hd]. */
  valueForWeights: string;
}

/** Where a layer's K/V come from: computed here (with the cache names) or a producer's. */
export type KeyValueSource =
  | { kind: 'own'; pastKey: string; pastValue: string; presentKey: string; presentValue: string }
  | { kind: 'shared'; producer: LayerKeyValues };

/**
 * Lowest float32: masked scores are replaced by it (Where, not added), so a query whose keys
 * are all masked (a left-padding position) gets a uniform softmax instead of NaN.
 */
const MASKED_SCORE = -3.4028234663852886e38;

/**
 * Gemma 3n self-attention (§1.6) with plain ops: q/k RMSNorm over head_dim, v RMSNorm without
 * scale, rotate-half RoPE on q and k, scale 1.0, GQA by grouping the query heads of each KV
 * head into one MatMul batch, the bool mask applied with Where, softmax in float32.
 * A KV-sharing consumer (§1.7) computes only q and o_proj and reads the producer's full K/V.
 */
export async function buildAttention(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  x: string,
  rotary: RotaryTables,
  mask: string,
  source: KeyValueSource,
  /** Sliding layers: the int64 [1] first cache index their keys are sliced from (see masks). */
  slidingKeyStart: string | null,
): Promise<{ output: string; keyValues: LayerKeyValues }> {
  const { hiddenSize: hidden, numAttentionHeads: heads, numKeyValueHeads: keyValueHeads, headDim, rmsNormEps: epsilon } = text;
  const groups = heads / keyValueHeads;
  const attention = scope.scope('attn');

  /** `<kind>_proj(x)` split into heads, [B, S, heads, hd]. */
  const projectHeads = async (kind: 'q' | 'k' | 'v', weightName: string, headCount: number): Promise<string> => {
    const projected = await context.linear(attention, `${kind}_proj`, x, weightName, hidden, headCount * headDim);
    return attention.op('Reshape', [projected, attention.int64([0, 0, headCount, headDim])], { name: `${kind}_proj/Reshape` });
  };
  /** RMSNorm over head_dim with the checkpoint's q_norm / k_norm scale. */
  const normHeads = async (name: 'q_norm' | 'k_norm', perHead: string, weightName: string): Promise<string> =>
    rmsNorm(attention, name, perHead, await context.vector(attention, `${name}/weight`, weightName, headDim), epsilon);

  const queryNormed = await normHeads('q_norm', await projectHeads('q', names.qProj, heads), names.qNorm);
  const queryRotated = applyRotary(attention.scope('q'), queryNormed, rotary, headDim);
  // [B, S, H, hd] → [B, H, S, hd] → [B, Hkv, groups, S, hd]: query head h uses KV head ⌊h / groups⌋.
  const queryFirst = attention.op('Transpose', [queryRotated], { name: 'q/Transpose', attributes: { perm: [0, 2, 1, 3] } });
  const queryGrouped = attention.op('Reshape', [queryFirst, attention.int64([0, keyValueHeads, groups, -1, headDim])], { name: 'q/Group' });

  let keyValues: LayerKeyValues;
  if (source.kind === 'own') {
    const keyNormed = await normHeads('k_norm', await projectHeads('k', names.kProj, keyValueHeads), names.kNorm);
    const keyRotated = applyRotary(attention.scope('k'), keyNormed, rotary, headDim);
    const keyNew = attention.op('Transpose', [keyRotated], { name: 'k/Transpose', attributes: { perm: [0, 2, 1, 3] } });
    const key = attention.op('Concat', [source.pastKey, keyNew], {
      name: 'k/ConcatPast',
      attributes: { axis: 2 },
      outputs: [source.presentKey],
    });

    const valueNormed = rmsNorm(attention, 'v_norm', await projectHeads('v', names.vProj, keyValueHeads), null, epsilon);
    const valueNew = attention.op('Transpose', [valueNormed], { name: 'v/Transpose', attributes: { perm: [0, 2, 1, 3] } });
    const value = attention.op('Concat', [source.pastValue, valueNew], {
      name: 'v/ConcatPast',
      attributes: { axis: 2 },
      outputs: [source.presentValue],
    });

    const keyTransposed = attention.op('Transpose', [key], { name: 'k/TransposeForScores', attributes: { perm: [0, 1, 3, 2] } });
    let keyForScores = attention.op('Unsqueeze', [keyTransposed, attention.int64([2])], { name: 'k/AddGroupAxis' });
    let valueForWeights = attention.op('Unsqueeze', [value, attention.int64([2])], { name: 'v/AddGroupAxis' });
    if (slidingKeyStart !== null) {
      keyForScores = sliceFrom(attention, 'k/Window', keyForScores, slidingKeyStart, 4);
      valueForWeights = sliceFrom(attention, 'v/Window', valueForWeights, slidingKeyStart, 3);
    }
    keyValues = { key, value, keyForScores, valueForWeights };
  } else {
    keyValues = source.producer;
  }

  const scores = attention.op('MatMul', [queryGrouped, keyValues.keyForScores], { name: 'Scores' });
  const masked = attention.op('Where', [mask, scores, attention.float32(MASKED_SCORE)], { name: 'ApplyMask' });
  const probabilities = attention.op('Softmax', [masked], { attributes: { axis: -1 } });
  const weighted = attention.op('MatMul', [probabilities, keyValues.valueForWeights], { name: 'WeightedValues' });
  // [B, Hkv, groups, S, hd] → [B, H, S, hd] → [B, S, H, hd] → [B, S, H·hd]
  const perHead = attention.op('Reshape', [weighted, attention.int64([0, heads, -1, headDim])], { name: 'o/Ungroup' });
  const sequenceFirst = attention.op('Transpose', [perHead], { name: 'o/Transpose', attributes: { perm: [0, 2, 1, 3] } });
  const flattened = attention.op('Reshape', [sequenceFirst, attention.int64([0, 0, heads * headDim])], { name: 'o/Flatten' });
  const output = await context.linear(attention, 'o_proj', flattened, names.oProj, heads * headDim, hidden);
  return { output, keyValues };
}
