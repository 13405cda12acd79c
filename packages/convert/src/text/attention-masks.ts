import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';

/** x[..., start:] along `axis`, start an int64 [1] tensor. */
export function sliceFrom(scope: GraphScope, name: string, x: string, start: string, axis: number): string {
  return scope.op('Slice', [x, start, scope.int64([Number.MAX_SAFE_INTEGER]), scope.int64([axis])], { name });
}

export interface AttentionMasks {
  /** Bool [B, 1, 1, S, T]: key k is visible to query q of a full-attention layer. */
  full: string | null;
  /**
   * Same for sliding layers (q − W < k, W keys including the current one), restricted to the
   * keys any new query can see: cache indices from `slidingKeyStart` = max(0, T − S − W + 1)
   * on, so sliding layers score at most S + W − 1 keys however long the cache grows.
   */
  sliding: string | null;
  /** int64 [1]: first cache index a sliding layer's keys and values are sliced from. */
  slidingKeyStart: string | null;
  /** int64 scalar S, the number of new positions. */
  sequenceLength: string;
}

/**
 * Masks shared by every layer, from the `attention_mask` input [B, T] (1 = real token,
 * 0 = padding) and the new positions' indices in the cache: query i sits at cache index
 * T − S + i. Causality and the window are by cache index, as HF's masks are, not by
 * `position_ids`; padding comes only from `attention_mask`.
 *
 * The [B, 1, 1, S, T] layout broadcasts over [B, Hkv, groups, S, T] attention scores.
 */
export function buildAttentionMasks(
  graph: OnnxGraphBuilder,
  inputsEmbeds: string,
  attentionMask: string,
  options: { needFull: boolean; needSliding: boolean; slidingWindow: number },
): AttentionMasks {
  const scope = graph.scope('/model/attention_mask');
  const embedsShape = scope.op('Shape', [inputsEmbeds], { name: 'EmbedsShape' });
  const sequenceLength = scope.op('Gather', [embedsShape, scope.int64([1], [])], { name: 'SequenceLength', attributes: { axis: 0 } });
  const maskShape = scope.op('Shape', [attentionMask], { name: 'MaskShape' });
  const totalLength = scope.op('Gather', [maskShape, scope.int64([1], [])], { name: 'TotalLength', attributes: { axis: 0 } });
  const pastLength = scope.op('Sub', [totalLength, sequenceLength], { name: 'PastLength' });
  const one = scope.int64([1], []);
  const queryIndices = scope.op('Range', [pastLength, totalLength, one], { name: 'QueryIndices' });
  const keyIndices = scope.op('Range', [scope.int64([0], []), totalLength, one], { name: 'KeyIndices' });
  const queryColumn = scope.op('Unsqueeze', [queryIndices, scope.int64([1])], { name: 'QueryColumn' });
  const causal = scope.op('LessOrEqual', [keyIndices, queryColumn], { name: 'Causal' });

  const isToken = scope.op('Cast', [attentionMask], { name: 'IsToken', attributes: { to: 9 } });
  const keyIsToken = scope.op('Unsqueeze', [isToken, scope.int64([1, 2, 3])], { name: 'KeyIsToken' });

  let full: string | null = null;
  if (options.needFull) full = scope.op('And', [causal, keyIsToken], { name: 'Full' });
  let sliding: string | null = null;
  let slidingKeyStart: string | null = null;
  if (options.needSliding) {
    const windowStart = scope.op('Sub', [queryColumn, scope.int64([options.slidingWindow], [])], { name: 'WindowStart' });
    const inWindow = scope.op('Greater', [keyIndices, windowStart], { name: 'InWindow' });
    const causalWindow = scope.op('And', [causal, inWindow], { name: 'CausalWindow' });
    const slidingAllKeys = scope.op('And', [causalWindow, keyIsToken], { name: 'SlidingAllKeys' });
    // The first query (cache index T − S) sees keys from T − S − W + 1 on; nothing before.
    const firstVisible = scope.op('Sub', [pastLength, scope.int64([options.slidingWindow - 1], [])], { name: 'FirstVisibleKey' });
    const clamped = scope.op('Max', [firstVisible, scope.int64([0], [])], { name: 'ClampFirstVisibleKey' });
    slidingKeyStart = scope.op('Reshape', [clamped, scope.int64([1])], { name: 'SlidingKeyStart' });
    sliding = sliceFrom(scope, 'Sliding', slidingAllKeys, slidingKeyStart, 4);
  }
  return { full, sliding, slidingKeyStart, sequenceLength };
}
