import type { Gemma3nTextConfig } from '@gemma3n/core';
import type { GraphScope } from '../onnx/onnx-graph-builder';
import { readAltupLayerWeights, stream } from '../text/altup-block';
import { buildMlp } from '../text/mlp-block';
import { geluTanh, type TextGraphContext } from '../text/text-graph-context';
import type { LayerWeightNames } from '../text/text-weight-names';
import { buildFusedAttention, type AttentionBlockInputs, type ProducedKeyValues } from './fused-attention-block';
import { fusedAltupCorrect, fusedAltupPredict } from './fused-altup-block';
import { simplifiedNorm, skipSimplifiedNorm } from './fused-norms';

export interface FusedDecoderLayerInputs {
  layerIndex: number;
  /** AltUp streams [N, B, S, D]. */
  streams: string;
  /** This layer's per-layer input [B, S, P]. */
  perLayerInput: string;
  attention: Omit<AttentionBlockInputs, 'x'>;
}

/**
 * One decoder layer (§1.5), the compat layer's math (`text/decoder-layer.ts`) with fused ops:
 * every RMSNorm is a SimplifiedLayerNormalization; the MLP residual `z = y + post_ffw(mlp)`
 * and the AltUp-correct router norm of z are one SkipSimplifiedLayerNormalization; attention
 * is GroupQueryAttention (fused-attention-block.ts). The MLP (gaussian top-k, Gelu-20 tanh)
 * is the compat block unchanged.
 */
export async function buildFusedDecoderLayer(
  context: TextGraphContext,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  inputs: FusedDecoderLayerInputs,
): Promise<{ streams: string; produced: ProducedKeyValues | null }> {
  const { layerIndex } = inputs;
  const layer = context.graph.scope(`/model/layers.${layerIndex}`);
  const hidden = text.hiddenSize;
  const epsilon = text.rmsNormEps;
  const norm = async (name: string, weightName: string, x: string): Promise<string> =>
    simplifiedNorm(layer, name, x, await context.vector(layer, `${name}/weight`, weightName, hidden), epsilon);

  const altupWeights = await readAltupLayerWeights(context, layer.scope('altup'), text, names);
  const predictions = await fusedAltupPredict(context, layer.scope('altup'), text, names, altupWeights, inputs.streams);
  const activePrediction = stream(layer, 'ActivePrediction', predictions, text.altupActiveIdx);
  const normed = await norm('input_layernorm', names.inputLayernorm, activePrediction);

  const laurel = await buildFusedLaurel(context, layer, text, names, normed);
  const { output: attentionOutput, produced } = await buildFusedAttention(context, layer, text, names, { ...inputs.attention, x: normed });
  const attentionNormed = await norm('post_attention_layernorm', names.postAttentionLayernorm, attentionOutput);
  const attentionGated = layer.op('Add', [activePrediction, attentionNormed], { name: 'AttentionResidual' });
  const withLaurel = layer.op('Add', [attentionGated, laurel], { name: 'AddLaurel' });
  const attentionLaurel = layer.op('Div', [withLaurel, layer.float32(Math.SQRT2)], { name: 'DivSqrt2' });

  const mlpInput = await norm('pre_feedforward_layernorm', names.preFeedforwardLayernorm, attentionLaurel);
  const mlpOutput = await buildMlp(context, layer, names, mlpInput, hidden, text.intermediateSize[layerIndex]!, text.activationSparsityPattern[layerIndex]!);
  const mlpNormed = await norm('post_feedforward_layernorm', names.postFeedforwardLayernorm, mlpOutput);
  // z = y + mlp, and the correct step's router norm of z, in one node.
  const { normed: routerNormed, sum: activated } = skipSimplifiedNorm(
    layer,
    'altup/correct/router/SkipSimplifiedLayerNormalization',
    attentionLaurel,
    mlpNormed,
    altupWeights.routerNorm,
    epsilon,
  );

  const corrected = await fusedAltupCorrect(context, layer.scope('altup'), text, names, altupWeights, predictions, activated, routerNormed);
  const streams = await addPerLayerInput(context, layer, text, names, corrected, inputs.perLayerInput);
  return { streams, produced };
}

/** Laurel: x + RMSNorm(linear_right(linear_left(x))). */
async function buildFusedLaurel(context: TextGraphContext, layer: GraphScope, text: Gemma3nTextConfig, names: LayerWeightNames, x: string): Promise<string> {
  const laurel = layer.scope('laurel');
  const left = await context.linear(laurel, 'linear_left', x, names.laurelLinearLeft, text.hiddenSize, text.laurelRank);
  const right = await context.linear(laurel, 'linear_right', left, names.laurelLinearRight, text.laurelRank, text.hiddenSize);
  const normWeight = await context.vector(laurel, 'post_laurel_norm/weight', names.laurelPostNorm, text.hiddenSize);
  const normed = simplifiedNorm(laurel, 'post_laurel_norm', right, normWeight, text.rmsNormEps);
  return laurel.op('Add', [x, normed], { name: 'Residual' });
}

/** g = gelu(gate(Q_active · correct_output_scale)) · PLI_ℓ; streams 1…N−1 get + RMSNorm(projection(g)). */
async function addPerLayerInput(
  context: TextGraphContext,
  layer: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  corrected: string,
  perLayerInput: string,
): Promise<string> {
  const scope = layer.scope('per_layer_input');
  let first = stream(scope, 'ActiveCorrected', corrected, text.altupActiveIdx);
  if (text.altupCorrectScale) {
    const scale = await context.vector(scope, 'correct_output_scale', names.altupCorrectOutputScale, text.hiddenSize);
    first = scope.op('Mul', [first, scale], { name: 'CorrectOutputScale' });
  }
  const gate = await context.linear(scope, 'per_layer_input_gate', first, names.perLayerInputGate, text.hiddenSize, text.hiddenSizePerLayerInput);
  const activated = geluTanh(scope, 'act_fn/Gelu', gate);
  const gated = scope.op('Mul', [activated, perLayerInput], { name: 'TimesPerLayerInput' });
  const projected = await context.linear(scope, 'per_layer_projection', gated, names.perLayerProjection, text.hiddenSizePerLayerInput, text.hiddenSize);
  const normWeight = await context.vector(scope, 'post_per_layer_input_norm/weight', names.postPerLayerInputNorm, text.hiddenSize);
  const normed = simplifiedNorm(scope, 'post_per_layer_input_norm', projected, normWeight, text.rmsNormEps);
  const firstStream = scope.op('Slice', [corrected, scope.int64([0]), scope.int64([1]), scope.int64([0])], { name: 'FirstStream' });
  const otherStreams = scope.op('Slice', [corrected, scope.int64([1]), scope.int64([text.altupNumInputs]), scope.int64([0])], { name: 'OtherStreams' });
  const updated = scope.op('Add', [otherStreams, normed], { name: 'AddToOtherStreams' });
  return scope.op('Concat', [firstStream, updated], { name: 'Streams', attributes: { axis: 0 } });
}
