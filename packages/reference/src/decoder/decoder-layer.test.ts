import { describe, expect, it } from 'vitest';
import { geluTanh } from '../blocks/activations';
import { altupCorrect, altupPredict, altupRouter } from '../blocks/altup';
import { mlp } from '../blocks/mlp';
import { rmsNorm } from '../blocks/rms-norm';
import { tinyConfig, tinyWeights } from '../test-support/tiny-model';
import { decoderLayer } from './decoder-layer';
import { readLayerWeights, type LayerWeights } from './layer-weights';

/*
 * The wiring of §1.5, checked with sub-blocks switched off so the answer is known by hand:
 * prediction coefficients 0 (P_i = H_i), correction coefficients 0 (c_i = 1), o_proj 0 (attn = 0),
 * down_proj 0 (MLP = 0), linear_right 0 (laurel = x). Then, with x = RMSNorm_input(H_0):
 *   z = (H_0 + x) / √2,   Q_0 = z,   Q_i = H_i + z − H_0,   output_i = Q_i + p for i ≥ 1,
 * where p = RMSNorm_post_per_layer(per_layer_projection(gelu(gate(Q_0 · scale)) · PLI)).
 */

const config = tinyConfig({ hiddenSize: 4, hiddenSizePerLayerInput: 4, numHiddenLayers: 5, numKvSharedLayers: 0, intermediateSize: Array(5).fill(6) });
const text = config.text;
const random = tinyWeights(config, 9);
const layerIndex = 0;
const streams = [[[1, 2, -1, 0.5], [0.3, -0.2, 0.1, 0.4], [2, 0, 0, -2], [-1, -1, 1, 1]].map((values) => Float32Array.from(values))];
const perLayerInput = Float32Array.from([0.5, -1, 2, 1]);
const identity4 = Float32Array.from({ length: 16 }, (_, index) => (index % 5 === 0 ? 1 : 0));

function neutralisedLayer(overrides: Partial<LayerWeights> = {}): LayerWeights {
  const layer = readLayerWeights(text, random.lookup, layerIndex);
  return {
    ...layer,
    predictionCoefficients: new Float32Array(64),
    correctionCoefficients: new Float32Array(16),
    outputProjection: new Float32Array(layer.outputProjection.length),
    downProjection: new Float32Array(layer.downProjection.length),
    laurelRight: new Float32Array(layer.laurelRight.length),
    inputNorm: Float32Array.from([1, 1, 1, 1]),
    perLayerInputGate: identity4,
    perLayerProjection: identity4,
    postPerLayerInputNorm: Float32Array.from([1, 1, 1, 1]),
    correctOutputScale: Float32Array.from([1, 0.5, -1, 2]),
    ...overrides,
  };
}

function expected(scale: Float32Array | null): number[][] {
  const [first, ...rest] = streams[0]!;
  const normed = rmsNorm(first!, null, text.rmsNormEps);
  const z = Array.from(first!, (value, index) => (value + normed[index]!) / Math.SQRT2);
  const gated = Float32Array.from(z, (value, index) => geluTanh(value * (scale === null ? 1 : scale[index]!)) * perLayerInput[index]!);
  const p = rmsNorm(gated, null, text.rmsNormEps);
  return [z, ...rest.map((stream) => Array.from(stream, (value, index) => value + z[index]! - first![index]! + p[index]!))];
}

function expectStreamsClose(actual: Float32Array[], wanted: number[][]): void {
  actual.forEach((stream, streamIndex) => stream.forEach((value, index) => expect(value).toBeCloseTo(wanted[streamIndex]![index]!, 5)));
}

describe('decoderLayer wiring (§1.5)', () => {
  it('residuals, correction and the per-layer input land where §1.5 puts them', () => {
    const layer = neutralisedLayer();
    const { streams: output, ownKeyValues } = decoderLayer(text, layerIndex, layer, streams, perLayerInput, null);
    expectStreamsClose(output[0]!, expected(layer.correctOutputScale));
    expect(ownKeyValues).not.toBeNull();
  });

  it('correct_output_scale only scales the gate input, and only with altup_correct_scale', () => {
    const layer = neutralisedLayer();
    const { streams: output } = decoderLayer({ ...text, altupCorrectScale: false }, layerIndex, layer, streams, perLayerInput, null);
    expectStreamsClose(output[0]!, expected(null));
  });

  it('the router reads H_active for predict and z for correct, with one router norm', () => {
    // Coefficients and MLP on: P = predict(H, router(H_0)); x = RMSNorm(P_0); y = (P_0 + x) / √2;
    // z = y + RMSNorm_post(MLP(RMSNorm_pre(y))); Q = correct(P, z, router(z)). The MLP keeps z from
    // being a positive multiple of P_0 (which would make router(z) = router(P_0)).
    const base = readLayerWeights(text, random.lookup, layerIndex);
    const layer = neutralisedLayer({
      predictionCoefficients: base.predictionCoefficients,
      correctionCoefficients: base.correctionCoefficients,
      downProjection: base.downProjection,
      perLayerProjection: new Float32Array(16),
    });
    const router = (input: Float32Array) => altupRouter(input, layer.routerNorm, layer.modalityRouter, 4, text.rmsNormEps);
    const predictions = altupPredict(streams[0]!, router(streams[0]![0]!), layer.predictionCoefficients);
    const normed = rmsNorm(predictions[0]!, null, text.rmsNormEps);
    const y = Float32Array.from(predictions[0]!, (value, index) => (value + normed[index]!) / Math.SQRT2);
    const feedforward = mlp(rmsNorm(y, layer.preFeedforwardNorm, text.rmsNormEps), layer.gateProjection, layer.upProjection, layer.downProjection, 4, 6, 0);
    const feedforwardNormed = rmsNorm(feedforward, layer.postFeedforwardNorm, text.rmsNormEps);
    const z = Float32Array.from(y, (value, index) => value + feedforwardNormed[index]!);
    const corrected = altupCorrect(predictions, z, router(z), layer.correctionCoefficients, 0, text.altupCoefClip);
    // Sparsity 0: with 6 gate values a 0.95 cutoff can zero the whole MLP, which would hide the wiring.
    const dense = { ...text, activationSparsityPattern: Array(5).fill(0) };
    const { streams: output } = decoderLayer(dense, layerIndex, layer, streams, perLayerInput, null);
    expectStreamsClose(output[0]!, corrected.map((stream) => Array.from(stream)));
  });
});
