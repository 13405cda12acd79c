import type { Gemma3nTextConfig } from '@gemma3n/core';
import { rmsNorm, type TextGraphContext } from './text-graph-context';
import type { TextWeightNames } from './text-weight-names';

/**
 * The decoder half of PLE (§1.3 steps 5–6), on the merged embeddings:
 * `PLI = (RMSNorm_P(reshape(per_layer_model_projection(E) · D^−½, [B,S,L,P])) + per_layer_inputs) · 2^−½`.
 * Returns PLI [B, S, L, P]; layer ℓ takes `PLI[:, :, ℓ, :]` with Gather.
 */
export async function buildPerLayerInputs(
  context: TextGraphContext,
  text: Gemma3nTextConfig,
  names: TextWeightNames,
  inputsEmbeds: string,
  perLayerInputs: string,
): Promise<string> {
  const scope = context.graph.scope('/model/per_layer_inputs');
  const layers = text.numHiddenLayers;
  const width = text.hiddenSizePerLayerInput;
  const projected = await context.linear(scope, 'per_layer_model_projection', inputsEmbeds, names.perLayerModelProjection, text.hiddenSize, layers * width);
  const scaled = scope.op('Mul', [projected, scope.float32(text.hiddenSize ** -0.5)], { name: 'ProjectionScale' });
  const perLayer = scope.op('Reshape', [scaled, scope.int64([0, 0, layers, width])], { name: 'SplitLayers' });
  const normWeight = await context.vector(scope, 'per_layer_projection_norm/weight', names.perLayerProjectionNorm, width);
  const normed = rmsNorm(scope, 'per_layer_projection_norm', perLayer, normWeight, text.rmsNormEps);
  const combined = scope.op('Add', [normed, perLayerInputs], { name: 'AddTokenInputs' });
  return scope.op('Mul', [combined, scope.float32(Math.SQRT1_2)], { name: 'InputScale' });
}

export function perLayerInputOf(context: TextGraphContext, combined: string, layerIndex: number): string {
  const scope = context.graph.scope(`/model/layers.${layerIndex}`);
  return scope.op('Gather', [combined, scope.int64([layerIndex], [])], { name: 'per_layer_input/Select', attributes: { axis: 2 } });
}
