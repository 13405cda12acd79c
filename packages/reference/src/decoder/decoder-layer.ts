import type { Gemma3nTextConfig } from '@gemma3n/core';
import { geluTanh } from '../blocks/activations';
import { altupCorrect, altupPredict, altupRouter } from '../blocks/altup';
import { laurel } from '../blocks/laurel';
import { linear } from '../blocks/linear';
import { mlp } from '../blocks/mlp';
import { rmsNorm } from '../blocks/rms-norm';
import { computeKeyValues, selfAttention, type LayerKeyValues } from '../blocks/self-attention';
import type { LayerWeights } from './layer-weights';

/** Input of one decoder layer: the AltUp streams per token, `streams[t][i]` of width D. */
export type TokenStreams = Float32Array[][];

export interface DecoderLayerResult {
  streams: TokenStreams;
  /** The K/V this layer computed (null on a KV-shared layer, which computes none). */
  ownKeyValues: LayerKeyValues | null;
}

/**
 * Decoder layer ℓ of §1.5 over the whole sequence. Checked against HF
 * `Gemma3nTextDecoderLayer.forward`: `altup_active_idx` selects the router input, the active
 * prediction, the innovation and the gate input; the per-layer projection is added to streams
 * `[1:]` whatever the active index; the active stream itself is not scaled by
 * correct_output_scale, only the copy fed to the gate (and only when altup_correct_scale).
 *
 * `perLayerInput` is this layer's `[T, P]` slice of the combined per-layer inputs (§1.3 step 6);
 * `sharedKeyValues` is the producer's K/V on a KV-shared layer, null otherwise.
 */
export function decoderLayer(
  config: Gemma3nTextConfig,
  layerIndex: number,
  layer: LayerWeights,
  streams: TokenStreams,
  perLayerInput: Float32Array,
  sharedKeyValues: LayerKeyValues | null,
): DecoderLayerResult {
  const { hiddenSize, rmsNormEps: epsilon, altupActiveIdx: activeIndex, altupNumInputs: streamCount } = config;
  const perLayerSize = config.hiddenSizePerLayerInput;
  const sequenceLength = streams.length;

  // Predict, then normalise the active prediction: the input of Laurel and attention.
  const predictions = streams.map((tokenStreams) =>
    altupPredict(tokenStreams, altupRouter(tokenStreams[activeIndex]!, layer.routerNorm, layer.modalityRouter, streamCount, epsilon), layer.predictionCoefficients),
  );
  const normedInput = new Float32Array(sequenceLength * hiddenSize);
  for (let position = 0; position < sequenceLength; position++) {
    normedInput.set(rmsNorm(predictions[position]![activeIndex]!, layer.inputNorm, epsilon), position * hiddenSize);
  }

  let ownKeyValues: LayerKeyValues | null = null;
  let keyValues = sharedKeyValues;
  if (keyValues === null) {
    ownKeyValues = computeKeyValues(config, layerIndex, normedInput, sequenceLength, layer.keyProjection!, layer.valueProjection!, layer.keyNorm!);
    keyValues = ownKeyValues;
  }
  const attention = selfAttention(config, layerIndex, normedInput, sequenceLength, layer.queryProjection, layer.queryNorm, layer.outputProjection, keyValues);

  const outputStreams: TokenStreams = [];
  for (let position = 0; position < sequenceLength; position++) {
    const tokenPredictions = predictions[position]!;
    const active = tokenPredictions[activeIndex]!;
    const normed = normedInput.subarray(position * hiddenSize, (position + 1) * hiddenSize);
    const laurelOutput = laurel(normed, layer.laurelLeft, layer.laurelRight, layer.postLaurelNorm, hiddenSize, config.laurelRank, epsilon);
    const attentionNormed = rmsNorm(attention.subarray(position * hiddenSize, (position + 1) * hiddenSize), layer.postAttentionNorm, epsilon);

    // y = ((a + attn) + laurel) / sqrt(2), the sum order HF uses.
    const combined = new Float32Array(hiddenSize);
    for (let index = 0; index < hiddenSize; index++) {
      combined[index] = (active[index]! + attentionNormed[index]! + laurelOutput[index]!) / Math.SQRT2;
    }
    const feedforward = mlp(
      rmsNorm(combined, layer.preFeedforwardNorm, epsilon),
      layer.gateProjection, layer.upProjection, layer.downProjection,
      hiddenSize, config.intermediateSize[layerIndex]!, config.activationSparsityPattern[layerIndex]!,
    );
    const feedforwardNormed = rmsNorm(feedforward, layer.postFeedforwardNorm, epsilon);
    const activated = new Float32Array(hiddenSize);
    for (let index = 0; index < hiddenSize; index++) activated[index] = combined[index]! + feedforwardNormed[index]!;

    const corrected = altupCorrect(
      tokenPredictions, activated,
      altupRouter(activated, layer.routerNorm, layer.modalityRouter, streamCount, epsilon),
      layer.correctionCoefficients, activeIndex, config.altupCoefClip,
    );

    // Per-layer input gate: gelu(gate(Q_active · scale)) · PLI_ℓ → projection → norm.
    const gateInput = Float32Array.from(corrected[activeIndex]!);
    if (config.altupCorrectScale) {
      for (let index = 0; index < hiddenSize; index++) gateInput[index] = gateInput[index]! * layer.correctOutputScale[index]!;
    }
    const gated = linear(layer.perLayerInputGate, gateInput, hiddenSize, perLayerSize);
    for (let index = 0; index < perLayerSize; index++) {
      gated[index] = geluTanh(gated[index]!) * perLayerInput[position * perLayerSize + index]!;
    }
    const perLayerOutput = rmsNorm(linear(layer.perLayerProjection, gated, perLayerSize, hiddenSize), layer.postPerLayerInputNorm, epsilon);
    for (let stream = 1; stream < streamCount; stream++) {
      const target = corrected[stream]!;
      for (let index = 0; index < hiddenSize; index++) target[index] = target[index]! + perLayerOutput[index]!;
    }
    outputStreams.push(corrected);
  }
  return { streams: outputStreams, ownKeyValues };
}
