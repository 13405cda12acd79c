import type { Gemma3nTextConfig, LayerType } from '@gemma3n/core';
import type { GraphScope } from '../onnx/onnx-graph-builder';
import { altupCorrect, altupPredict, readAltupLayerWeights, stream } from './altup-block';
import { buildAttention, type KeyValueSource, type LayerKeyValues } from './attention-block';
import { buildMlp } from './mlp-block';
import type { RotaryTables } from './rotary-embedding';
import { geluTanh, rmsNorm, type RmsNormBuilder, type TextGraphContext } from './text-graph-context';
import type { LayerWeightNames } from './text-weight-names';

export interface DecoderLayerInputs extends DecoderLayerStreams {
  layerType: LayerType;
  rotary: RotaryTables;
  mask: string;
  /** Sliding layers: first cache index of the keys they score (null on full layers). */
  slidingKeyStart: string | null;
  keyValueSource: KeyValueSource;
}

/**
 * The points where a profile builds a decoder layer its own way; everything else (AltUp,
 * Laurel, the MLP, the per-layer-input gate and the residual wiring) is written once, in
 * `buildDecoderLayerWith`.
 */
export interface DecoderLayerProfile<KeyValues> {
  /** Every RMSNorm of the layer (compat: `rmsNorm`). */
  norm: RmsNormBuilder;
  /** Self-attention of the normed active prediction. */
  attention: (layer: GraphScope, normed: string) => Promise<{ output: string; keyValues: KeyValues }>;
  /**
   * z = y + post_ffw(mlp) and, when the profile builds it in the same node, AltUp correct's
   * router norm of z (compat: a plain Add, the router norm built by `altupCorrect`).
   */
  mlpResidual?: (layer: GraphScope, residual: string, mlpNormed: string, routerNormWeight: string) => { sum: string; routerNormed?: string };
}

export interface DecoderLayerStreams {
  layerIndex: number;
  /** AltUp streams [N, B, S, D]. */
  streams: string;
  /** This layer's per-layer input [B, S, P]. */
  perLayerInput: string;
}

/**
 * One decoder layer (§1.5): AltUp predict, input norm, Laurel and attention in parallel,
 * the MLP, AltUp correct, then the per-layer-input gate added to streams 1…N−1.
 */
export async function buildDecoderLayer(
  context: TextGraphContext,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  inputs: DecoderLayerInputs,
): Promise<{ streams: string; keyValues: LayerKeyValues }> {
  return buildDecoderLayerWith(context, text, names, inputs, {
    norm: rmsNorm,
    attention: (layer, normed) =>
      buildAttention(context, layer, text, names, normed, inputs.rotary, inputs.mask, inputs.keyValueSource, inputs.slidingKeyStart),
  });
}

/** One decoder layer (§1.5) with the profile's norms, attention and MLP residual. */
export async function buildDecoderLayerWith<KeyValues>(
  context: TextGraphContext,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  inputs: DecoderLayerStreams,
  profile: DecoderLayerProfile<KeyValues>,
): Promise<{ streams: string; keyValues: KeyValues }> {
  const { layerIndex } = inputs;
  const layer = context.graph.scope(`/model/layers.${layerIndex}`);
  const hidden = text.hiddenSize;
  const epsilon = text.rmsNormEps;
  const norm = async (name: string, weightName: string, x: string): Promise<string> =>
    profile.norm(layer, name, x, await context.vector(layer, `${name}/weight`, weightName, hidden), epsilon);

  const altupWeights = await readAltupLayerWeights(context, layer.scope('altup'), text, names);
  const predictions = await altupPredict(context, layer.scope('altup'), text, names, altupWeights, inputs.streams, profile.norm);
  const activePrediction = stream(layer, 'ActivePrediction', predictions, text.altupActiveIdx);
  const normed = await norm('input_layernorm', names.inputLayernorm, activePrediction);

  const laurel = await buildLaurel(context, layer, text, names, normed, profile.norm);
  const { output: attentionOutput, keyValues } = await profile.attention(layer, normed);
  const attentionNormed = await norm('post_attention_layernorm', names.postAttentionLayernorm, attentionOutput);
  const attentionGated = layer.op('Add', [activePrediction, attentionNormed], { name: 'AttentionResidual' });
  const withLaurel = layer.op('Add', [attentionGated, laurel], { name: 'AddLaurel' });
  const attentionLaurel = layer.op('Div', [withLaurel, layer.float32(Math.SQRT2)], { name: 'DivSqrt2' });

  const mlpInput = await norm('pre_feedforward_layernorm', names.preFeedforwardLayernorm, attentionLaurel);
  const intermediate = text.intermediateSize[layerIndex]!;
  const sparsity = text.activationSparsityPattern[layerIndex]!;
  const mlpOutput = await buildMlp(context, layer, names, mlpInput, hidden, intermediate, sparsity);
  const mlpNormed = await norm('post_feedforward_layernorm', names.postFeedforwardLayernorm, mlpOutput);
  const { sum: activated, routerNormed } = profile.mlpResidual
    ? profile.mlpResidual(layer, attentionLaurel, mlpNormed, altupWeights.routerNorm)
    : { sum: layer.op('Add', [attentionLaurel, mlpNormed], { name: 'MlpResidual' }), routerNormed: undefined };

  const corrected = await altupCorrect(context, layer.scope('altup'), text, names, altupWeights, predictions, activated, routerNormed);
  const streams = await addPerLayerInput(context, layer, text, names, corrected, inputs.perLayerInput, profile.norm);
  return { streams, keyValues };
}

/** Laurel: x + RMSNorm(linear_right(linear_left(x))), a rank-r residual. */
async function buildLaurel(
  context: TextGraphContext,
  layer: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  x: string,
  norm: RmsNormBuilder,
): Promise<string> {
  const laurel = layer.scope('laurel');
  const left = await context.linear(laurel, 'linear_left', x, names.laurelLinearLeft, text.hiddenSize, text.laurelRank);
  const right = await context.linear(laurel, 'linear_right', left, names.laurelLinearRight, text.laurelRank, text.hiddenSize);
  const normWeight = await context.vector(laurel, 'post_laurel_norm/weight', names.laurelPostNorm, text.hiddenSize);
  const normed = norm(laurel, 'post_laurel_norm', right, normWeight, text.rmsNormEps);
  return laurel.op('Add', [x, normed], { name: 'Residual' });
}

/**
 * g = gelu(per_layer_input_gate(Q_active · correct_output_scale)) · PLI_ℓ;
 * p = RMSNorm(per_layer_projection(g)); streams 1…N−1 get + p, stream 0 is unchanged.
 */
async function addPerLayerInput(
  context: TextGraphContext,
  layer: GraphScope,
  text: Gemma3nTextConfig,
  names: LayerWeightNames,
  corrected: string,
  perLayerInput: string,
  norm: RmsNormBuilder,
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
  const normed = norm(scope, 'post_per_layer_input_norm', projected, normWeight, text.rmsNormEps);

  const firstStream = scope.op('Slice', [corrected, scope.int64([0]), scope.int64([1]), scope.int64([0])], { name: 'FirstStream' });
  const otherStreams = scope.op('Slice', [corrected, scope.int64([1]), scope.int64([text.altupNumInputs]), scope.int64([0])], { name: 'OtherStreams' });
  const updated = scope.op('Add', [otherStreams, normed], { name: 'AddToOtherStreams' });
  return scope.op('Concat', [firstStream, updated], { name: 'Streams', attributes: { axis: 0 } });
}
