import type { GraphScope } from '../onnx/onnx-graph-builder';
import { inverseNormalCdf } from './inverse-normal-cdf';
import { geluTanh, type TextGraphContext } from './text-graph-context';
import type { LayerWeightNames } from './text-weight-names';

/**
 * Gemma 3n MLP (§1.8): `down(gelu_tanh(g) · up(x))` with `g = gate(x)`; when the layer's
 * activation sparsity s is positive, `g = relu(g − (mean(g) + std(g)·Φ⁻¹(s)))` first
 * (population std over the last axis; surviving values are shifted by the cutoff).
 */
export async function buildMlp(
  context: TextGraphContext,
  scope: GraphScope,
  names: LayerWeightNames,
  x: string,
  hidden: number,
  intermediate: number,
  sparsity: number,
): Promise<string> {
  const mlp = scope.scope('mlp');
  let gate = await context.linear(mlp, 'gate_proj', x, names.gateProj, hidden, intermediate);
  if (sparsity > 0) gate = gaussianTopK(mlp.scope('gaussian_topk'), gate, sparsity);
  const activated = geluTanh(mlp, 'act_fn/Gelu', gate);
  const up = await context.linear(mlp, 'up_proj', x, names.upProj, hidden, intermediate);
  const product = mlp.op('Mul', [activated, up], { name: 'GateTimesUp' });
  return context.linear(mlp, 'down_proj', product, names.downProj, intermediate, hidden);
}

function gaussianTopK(scope: GraphScope, gate: string, sparsity: number): string {
  if (!(sparsity < 1)) throw new Error(`activation_sparsity_pattern values must be in [0, 1), got ${sparsity}`);
  const lastAxis = scope.int64([-1]);
  const mean = scope.op('ReduceMean', [gate, lastAxis], { name: 'Mean', attributes: { keepdims: 1 } });
  const centered = scope.op('Sub', [gate, mean], { name: 'Center' });
  const squared = scope.op('Mul', [centered, centered], { name: 'Square' });
  const variance = scope.op('ReduceMean', [squared, lastAxis], { name: 'Variance', attributes: { keepdims: 1 } });
  const deviation = scope.op('Sqrt', [variance], { name: 'StandardDeviation' });
  const spread = scope.op('Mul', [deviation, scope.float32(inverseNormalCdf(sparsity))], { name: 'TimesQuantile' });
  const cutoff = scope.op('Add', [mean, spread], { name: 'Cutoff' });
  const shifted = scope.op('Sub', [gate, cutoff], { name: 'SubtractCutoff' });
  return scope.op('Relu', [shifted]);
}
