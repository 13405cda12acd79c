import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';

/**
 * Additive bias of padding keys. Finite, so a query whose keys are all padding (a left-padding
 * position) gets a uniform softmax instead of NaN, as the compat graph's Where does; scores are
 * many orders of magnitude smaller, so `score + bias` never overflows to −∞.
 */
const PADDING_BIAS = -1e30;

/**
 * What every GroupQueryAttention node takes besides Q/K/V and the cache, derived inside the
 * graph from the contract inputs only (transformers.js feeds nothing else):
 * - `seqlensK` int32 [B] = T − 1 for every row, T = attention_mask's length: the cache holds T
 *   rows for every batch row (left padding included), so causality and the sliding window are
 *   by cache index, exactly as the compat graph and HF's masks;
 * - `totalSequenceLength` int32 scalar T;
 * - `paddingBias` float [B, 1, S, T]: 0 for real keys, −1e30 for keys whose attention_mask is 0.
 */
export interface GroupQueryAttentionInputs {
  seqlensK: string;
  totalSequenceLength: string;
  paddingBias: string;
}

export function buildGroupQueryAttentionInputs(graph: OnnxGraphBuilder, inputsEmbeds: string, attentionMask: string): GroupQueryAttentionInputs {
  const scope = graph.scope('/model/group_query_attention_inputs');
  const maskShape = scope.op('Shape', [attentionMask], { name: 'MaskShape' });
  const batch = scope.op('Gather', [maskShape, scope.int64([0])], { name: 'Batch', attributes: { axis: 0 } });
  const total = scope.op('Gather', [maskShape, scope.int64([1], [])], { name: 'Total', attributes: { axis: 0 } });
  const lastIndex = scope.op('Sub', [total, scope.int64([1], [])], { name: 'LastIndex' });
  const lastIndex32 = scope.op('Cast', [lastIndex], { name: 'LastIndexInt32', attributes: { to: 6 } });
  const seqlensK = scope.op('Expand', [lastIndex32, batch], { name: 'SeqlensK' });
  const totalSequenceLength = scope.op('Cast', [total], { name: 'TotalSequenceLength', attributes: { to: 6 } });

  const embedsShape = scope.op('Shape', [inputsEmbeds], { name: 'EmbedsShape' });
  const sequence = scope.op('Gather', [embedsShape, scope.int64([1])], { name: 'Sequence', attributes: { axis: 0 } });
  const isToken = scope.op('Cast', [attentionMask], { name: 'IsToken', attributes: { to: 1 } });
  const minusOneForPadding = scope.op('Sub', [isToken, scope.float32(1)], { name: 'MinusOneForPadding' });
  const bias = scope.op('Mul', [minusOneForPadding, scope.float32(-PADDING_BIAS)], { name: 'Bias' });
  const keyBias = scope.op('Unsqueeze', [bias, scope.int64([1, 2])], { name: 'KeyBias' });
  const biasShape = scope.op('Concat', [batch, scope.int64([1]), sequence, scope.op('Reshape', [total, scope.int64([1])], { name: 'TotalVector' })], {
    name: 'BiasShape',
    attributes: { axis: 0 },
  });
  const paddingBias = scope.op('Expand', [keyBias, biasShape], { name: 'PaddingBias' });
  return { seqlensK, totalSequenceLength, paddingBias };
}

/**
 * Inputs of com.microsoft RotaryEmbedding for one θ. The op looks rows up in a cos/sin cache
 * by position id; instead of a [max_position_embeddings, hd/2] table (16 MB per θ at E2B), the
 * cache holds exactly the rows of this run's positions, `cos(position_ids · inv_freq)` [B·S, hd/2]
 * (float32 products as in HF and the compat graph), and the op's position ids are 0…B·S−1.
 */
export interface RotaryCache {
  cos: string;
  sin: string;
  /** int64 [B, S]: row b·S + s of the caches. */
  rowIds: string;
}

export function rotaryRowIds(graph: OnnxGraphBuilder, positionIds: string): string {
  const scope = graph.scope('/model/rotary_emb');
  const shape = scope.op('Shape', [positionIds], { name: 'PositionShape' });
  const count = scope.op('ReduceProd', [shape], { name: 'PositionCount', attributes: { keepdims: 0 } });
  const rows = scope.op('Range', [scope.int64([0], []), count, scope.int64([1], [])], { name: 'Rows' });
  return scope.op('Reshape', [rows, shape], { name: 'RowIds' });
}

export function buildRotaryCache(scope: GraphScope, positionIds: string, rowIds: string, headDim: number, theta: number): RotaryCache {
  const half = headDim / 2;
  const inverseFrequencies = Array.from({ length: half }, (_, j) => 1 / theta ** ((2 * j) / headDim));
  const positions = scope.op('Cast', [positionIds], { name: 'Positions', attributes: { to: 1 } });
  const positionColumn = scope.op('Unsqueeze', [positions, scope.int64([2])], { name: 'PositionColumn' });
  const angles = scope.op('Mul', [positionColumn, scope.float32(inverseFrequencies, [half])], { name: 'Angles' });
  const rowsShape = scope.int64([-1, half]);
  const cos = scope.op('Reshape', [scope.op('Cos', [angles]), rowsShape], { name: 'CosCache' });
  const sin = scope.op('Reshape', [scope.op('Sin', [angles]), rowsShape], { name: 'SinCache' });
  return { cos, sin, rowIds };
}

/** RoPE (rotate-half, all of head_dim) on a [B, S, heads·hd] tensor. */
export function applyRotaryEmbedding(scope: GraphScope, name: string, x: string, cache: RotaryCache): string {
  return scope.op('RotaryEmbedding', [x, cache.rowIds, cache.cos, cache.sin], {
    name,
    domain: 'com.microsoft',
    attributes: { interleaved: 0 },
  });
}
