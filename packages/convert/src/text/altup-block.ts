import type { Gemma3nTextConfig } from '@gemma3n/core';
import type { GraphScope } from '../onnx/onnx-graph-builder';
import { rmsNorm, rootMeanSquare, type RmsNormBuilder, type TextGraphContext } from './text-graph-context';
import type { LayerWeightNames } from './text-weight-names';

/**
 * AltUp (§1.4, §1.5, §1.9). The streams travel between layers stacked as one tensor
 * [N, B, S, D] (stream-major, like HF's stacked hidden states), so a layer takes stream i with
 * Gather(axis 0) and updates all of them with broadcasting.
 */

/** Magnitude floor of the stream re-normalisation: sqrt(max(mean(x²), 1e-5)). */
const MAGNITUDE_FLOOR = 1e-5;

/** `x · target / sqrt(max(mean(x²), 1e-5))`, in HF's order (multiply, then divide). */
function matchMagnitude(scope: GraphScope, name: string, x: string, targetMagnitude: string): string {
  const squared = scope.op('Mul', [x, x], { name: `${name}/Square` });
  const meanSquare = scope.op('ReduceMean', [squared, scope.int64([-1])], { name: `${name}/ReduceMean`, attributes: { keepdims: 1 } });
  const floored = scope.op('Max', [meanSquare, scope.float32(MAGNITUDE_FLOOR)], { name: `${name}/Floor` });
  const magnitude = scope.op('Sqrt', [floored], { name: `${name}/Sqrt` });
  const scaled = scope.op('Mul', [x, targetMagnitude], { name: `${name}/MulTarget` });
  return scope.op('Div', [scaled, magnitude], { name: `${name}/DivMagnitude` });
}

export function stackStreams(scope: GraphScope, name: string, streams: string[]): string {
  const axis = scope.int64([0]);
  const expanded = streams.map((stream, index) => scope.op('Unsqueeze', [stream, axis], { name: `${name}/Unsqueeze${index}` }));
  return scope.op('Concat', expanded, { name: `${name}/Concat`, attributes: { axis: 0 } });
}

export function stream(scope: GraphScope, name: string, streams: string, index: number): string {
  return scope.op('Gather', [streams, scope.int64([index], [])], { name, attributes: { axis: 0 } });
}

/** h0 = embeddings; h_i = altup_projections[i−1](h0) rescaled to h0's magnitude. */
export async function altupInitialStreams(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  projectionName: (index: number) => string,
  embeddings: string,
): Promise<string> {
  const altup = scope.scope('altup_projections');
  const target = rootMeanSquare(altup, 'TargetMagnitude', embeddings);
  const streams = [embeddings];
  for (let index = 1; index < text.altupNumInputs; index++) {
    const projected = await context.linear(altup, `${index - 1}`, embeddings, projectionName(index - 1), text.hiddenSize, text.hiddenSize);
    streams.push(matchMagnitude(altup, `${index - 1}/Rescale`, projected, target));
  }
  return stackStreams(altup, 'Stack', streams);
}

/** mean(h0, unembed_1(h1), …) with the unembedded streams rescaled to h0's magnitude. */
export async function altupUnembed(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  projectionName: (index: number) => string,
  streams: string,
): Promise<string> {
  const altup = scope.scope('altup_unembed_projections');
  const first = stream(altup, 'Stream0', streams, 0);
  const target = rootMeanSquare(altup, 'TargetMagnitude', first);
  const unembedded = [first];
  for (let index = 1; index < text.altupNumInputs; index++) {
    const current = stream(altup, `Stream${index}`, streams, index);
    const projected = await context.linear(altup, `${index - 1}`, current, projectionName(index - 1), text.hiddenSize, text.hiddenSize);
    unembedded.push(matchMagnitude(altup, `${index - 1}/Rescale`, projected, target));
  }
  const stacked = stackStreams(altup, 'Stack', unembedded);
  return altup.op('ReduceMean', [stacked, altup.int64([0])], { name: 'MeanOfStreams', attributes: { keepdims: 0 } });
}

/** Per-layer AltUp weights, read once and used by predict and correct. */
export interface AltupLayerWeights {
  routerNorm: string;
  /** Wᵀ [D, N] of modality_router. */
  router: string;
}

export async function readAltupLayerWeights(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
): Promise<AltupLayerWeights> {
  const routerNorm = await context.vector(scope, 'router_norm/weight', names.altupRouterNorm, text.hiddenSize);
  const router = await context.transposedWeight(scope, 'modality_router/weight', names.altupModalityRouter, text.hiddenSize, text.altupNumInputs);
  return { routerNorm, router };
}

/** tanh(modality_router(normed / D)), [B, S, N], from the router-normed input. */
function routerModalities(router: GraphScope, text: Gemma3nTextConfig, weights: AltupLayerWeights, normed: string): string {
  const scaled = router.op('Mul', [normed, router.float32(1 / text.hiddenSize)], { name: 'InputScale' });
  const routed = router.op('MatMul', [scaled, weights.router], { name: 'modality_router/MatMul' });
  return router.op('Tanh', [routed]);
}

/**
 * P_i = H_i + Σ_j C[i][j]·H_j with C = prediction_coefs(router(H_active)) reshaped [N, N].
 * `norm` builds the router norm (the optimized profile passes its fused norm).
 */
export async function altupPredict(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  weights: AltupLayerWeights,
  streams: string,
  norm: RmsNormBuilder = rmsNorm,
): Promise<string> {
  const predict = scope.scope('predict');
  const count = text.altupNumInputs;
  const active = stream(predict, 'ActiveStream', streams, text.altupActiveIdx);
  const router = predict.scope('router');
  const modalities = routerModalities(router, text, weights, norm(router, 'router_norm', active, weights.routerNorm, text.rmsNormEps));
  const coefficients = await context.linear(predict, 'prediction_coefs', modalities, names.altupPredictionCoefs, count, count * count);
  // [B, S, N·N] → C [B, S, N(i), N(j)] → Cᵀ [B, S, N(j), N(i)]; streams [N, B, S, D] → [B, S, D, N(j)].
  const matrix = predict.op('Reshape', [coefficients, predict.int64([0, 0, count, count])], { name: 'CoefficientMatrix' });
  const transposedMatrix = predict.op('Transpose', [matrix], { name: 'TransposeCoefficients', attributes: { perm: [0, 1, 3, 2] } });
  const streamsLast = predict.op('Transpose', [streams], { name: 'StreamsLast', attributes: { perm: [1, 2, 3, 0] } });
  const mixed = predict.op('MatMul', [streamsLast, transposedMatrix], { name: 'Mix' });
  const mixedFirst = predict.op('Transpose', [mixed], { name: 'StreamsFirst', attributes: { perm: [3, 0, 1, 2] } });
  return predict.op('Add', [mixedFirst, streams], { name: 'AddStreams' });
}

/**
 * Q_i = P_i + c_i·(activated − P_active), c = correction_coefs(router(activated)) + 1. The
 * correction weights are clipped to ±altup_coef_clip first, as HF clamps them at inference.
 * `routerNormed`: RMSNorm_router(activated) when the caller has built it already (the optimized
 * profile, fused with the MLP residual); else it is built here with `rmsNorm`.
 */
export async function altupCorrect(
  context: TextGraphContext,
  scope: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  weights: AltupLayerWeights,
  predictions: string,
  activated: string,
  routerNormed?: string,
): Promise<string> {
  const correct = scope.scope('correct');
  const count = text.altupNumInputs;
  const router = correct.scope('router');
  const normed = routerNormed ?? rmsNorm(router, 'router_norm', activated, weights.routerNorm, text.rmsNormEps);
  const modalities = routerModalities(router, text, weights, normed);
  const raw = await context.read(names.altupCorrectionCoefs, [count, count]);
  const clip = text.altupCoefClip;
  const clipped = clip === null ? raw : raw.map((value) => Math.min(clip, Math.max(-clip, value)));
  const transposed = new Float32Array(count * count);
  for (let out = 0; out < count; out++) for (let input = 0; input < count; input++) transposed[input * count + out] = clipped[out * count + input]!;
  const weight = await correct.initializer('correction_coefs/weight', 'float32', [count, count], transposed);
  const coefficients = correct.op('MatMul', [modalities, weight], { name: 'correction_coefs/MatMul' });
  const plusOne = correct.op('Add', [coefficients, correct.float32(1)], { name: 'PlusOne' });
  // [B, S, N] → [N, B, S, 1] to scale each stream.
  const perStream = correct.op('Unsqueeze', [
    correct.op('Transpose', [plusOne], { name: 'StreamsFirst', attributes: { perm: [2, 0, 1] } }),
    correct.int64([3]),
  ], { name: 'PerStream' });
  const activePrediction = stream(correct, 'ActivePrediction', predictions, text.altupActiveIdx);
  const innovation = correct.op('Sub', [activated, activePrediction], { name: 'Innovation' });
  const scaled = correct.op('Mul', [innovation, perStream], { name: 'ScaleInnovation' });
  return correct.op('Add', [scaled, predictions], { name: 'AddPredictions' });
}
