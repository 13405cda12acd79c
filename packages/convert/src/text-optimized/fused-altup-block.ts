import type { Gemma3nTextConfig } from '@gemma3n/core';
import type { GraphScope } from '../onnx/onnx-graph-builder';
import type { AltupLayerWeights } from '../text/altup-block';
import { stream } from '../text/altup-block';
import type { TextGraphContext } from '../text/text-graph-context';
import type { LayerWeightNames } from '../text/text-weight-names';
import { simplifiedNorm } from './fused-norms';

/**
 * AltUp predict and correct (§1.5) as in the compat graph (`text/altup-block.ts`, same math and
 * layout: streams stacked [N, B, S, D]), with the router norm fused: predict normalises the
 * active stream with SimplifiedLayerNormalization, correct receives the router-normed
 * activation from the layer's SkipSimplifiedLayerNormalization (residual add + norm in one node).
 */

/** tanh(modality_router(normed / D)), [B, S, N]. */
function routerModalities(scope: GraphScope, text: Gemma3nTextConfig, weights: AltupLayerWeights, normed: string): string {
  const scaled = scope.op('Mul', [normed, scope.float32(1 / text.hiddenSize)], { name: 'InputScale' });
  const routed = scope.op('MatMul', [scaled, weights.router], { name: 'modality_router/MatMul' });
  return scope.op('Tanh', [routed]);
}

export async function fusedAltupPredict(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  weights: AltupLayerWeights,
  streams: string,
): Promise<string> {
  const predict = scope.scope('predict');
  const count = text.altupNumInputs;
  const active = stream(predict, 'ActiveStream', streams, text.altupActiveIdx);
  const normed = simplifiedNorm(predict, 'router/router_norm', active, weights.routerNorm, text.rmsNormEps);
  const modalities = routerModalities(predict.scope('router'), text, weights, normed);
  const coefficients = await context.linear(predict, 'prediction_coefs', modalities, names.altupPredictionCoefs, count, count * count);
  const matrix = predict.op('Reshape', [coefficients, predict.int64([0, 0, count, count])], { name: 'CoefficientMatrix' });
  const transposedMatrix = predict.op('Transpose', [matrix], { name: 'TransposeCoefficients', attributes: { perm: [0, 1, 3, 2] } });
  const streamsLast = predict.op('Transpose', [streams], { name: 'StreamsLast', attributes: { perm: [1, 2, 3, 0] } });
  const mixed = predict.op('MatMul', [streamsLast, transposedMatrix], { name: 'Mix' });
  const mixedFirst = predict.op('Transpose', [mixed], { name: 'StreamsFirst', attributes: { perm: [3, 0, 1, 2] } });
  return predict.op('Add', [mixedFirst, streams], { name: 'AddStreams' });
}

/** Q_i = P_i + c_i·(activated − P_active), c = clip(correction_coefs)(router(activated)) + 1. */
export async function fusedAltupCorrect(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  weights: AltupLayerWeights,
  predictions: string,
  activated: string,
  routerNormedActivated: string,
): Promise<string> {
  const correct = scope.scope('correct');
  const count = text.altupNumInputs;
  const modalities = routerModalities(correct.scope('router'), text, weights, routerNormedActivated);
  const raw = await context.read(names.altupCorrectionCoefs, [count, count]);
  const clip = text.altupCoefClip;
  const clipped = clip === null ? raw : raw.map((value) => Math.min(clip, Math.max(-clip, value)));
  const transposed = new Float32Array(count * count);
  for (let out = 0; out < count; out++) for (let input = 0; input < count; input++) transposed[input * count + out] = clipped[out * count + input]!;
  const weight = await correct.initializer('correction_coefs/weight', 'float32', [count, count], transposed);
  const coefficients = correct.op('MatMul', [modalities, weight], { name: 'correction_coefs/MatMul' });
  const plusOne = correct.op('Add', [coefficients, correct.float32(1)], { name: 'PlusOne' });
  const perStream = correct.op('Unsqueeze', [
    correct.op('Transpose', [plusOne], { name: 'StreamsFirst', attributes: { perm: [2, 0, 1] } }),
    correct.int64([3]),
  ], { name: 'PerStream' });
  const activePrediction = stream(correct, 'ActivePrediction', predictions, text.altupActiveIdx);
  const innovation = correct.op('Sub', [activated, activePrediction], { name: 'Innovation' });
  const scaled = correct.op('Mul', [innovation, perStream], { name: 'ScaleInnovation' });
  return correct.op('Add', [scaled, predictions], { name: 'AddPredictions' });
}
