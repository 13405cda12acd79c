import type { GraphScope } from '../onnx/onnx-graph-builder';

export interface RotaryTables {
  /** [B, S, 1, hd], broadcasting over the heads of a [B, S, H, hd] tensor. */
  cos: string;
  sin: string;
}

/**
 * cos/sin tables for rotate-half RoPE from `position_ids` [B, S]:
 * `inv_freq_j = θ^(−2j/hd)`, `emb = [pos·inv_freq, pos·inv_freq]`. The frequencies are
 * computed in float64 here and stored as float32, the products in float32 as in HF.
 */
export function buildRotaryTables(scope: GraphScope, positionIds: string, headDim: number, theta: number): RotaryTables {
  if (headDim % 2 !== 0) throw new Error(`RoPE needs an even head_dim, got ${headDim}`);
  const half = headDim / 2;
  const inverseFrequencies = Array.from({ length: half }, (_, j) => 1 / theta ** ((2 * j) / headDim));
  const positions = scope.op('Cast', [positionIds], { name: 'Positions', attributes: { to: 1 } });
  const positionColumn = scope.op('Unsqueeze', [positions, scope.int64([2])], { name: 'PositionColumn' });
  const frequencies = scope.op('Mul', [positionColumn, scope.float32(inverseFrequencies, [half])], { name: 'Frequencies' });
  const angles = scope.op('Concat', [frequencies, frequencies], { name: 'Angles', attributes: { axis: -1 } });
  const headAxis = scope.int64([2]);
  const cos = scope.op('Unsqueeze', [scope.op('Cos', [angles]), headAxis], { name: 'CosPerHead' });
  const sin = scope.op('Unsqueeze', [scope.op('Sin', [angles]), headAxis], { name: 'SinPerHead' });
  return { cos, sin };
}

/** `x·cos + rotate_half(x)·sin` with `rotate_half(x) = [−x₂, x₁]` over the last axis. */
export function applyRotary(scope: GraphScope, x: string, tables: RotaryTables, headDim: number): string {
  const rotary = scope.scope('rotary');
  const half = headDim / 2;
  const [first, second] = rotary.node('Split', [x, rotary.int64([half, half])], { name: 'SplitHalves', outputCount: 2, attributes: { axis: -1 } }) as [string, string];
  const negatedSecond = rotary.op('Neg', [second]);
  const rotated = rotary.op('Concat', [negatedSecond, first], { name: 'RotateHalf', attributes: { axis: -1 } });
  const withCos = rotary.op('Mul', [x, tables.cos], { name: 'MulCos' });
  const withSin = rotary.op('Mul', [rotated, tables.sin], { name: 'MulSin' });
  return rotary.op('Add', [withCos, withSin]);
}
