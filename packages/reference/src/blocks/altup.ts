import { linear, meanOfSquares } from './linear';
import { rmsNorm } from './rms-norm';

/*
 * AltUp (§1.4, §1.5, §1.9) on one token. `streams` holds N vectors of width D (N =
 * altup_num_inputs). Every formula below was checked against HF `Gemma3nTextAltUp` and
 * `Gemma3nTextModel.forward`.
 */

/**
 * `tanh(modality_router(RMSNorm_router(x) · (1/D)))`, N values. HF: `router_input_scale` is
 * `hidden_size ** -1.0` (1/D, not 1/sqrt(D)), and the tanh runs in fp32.
 */
export function altupRouter(input: Float32Array, routerNorm: Float32Array, modalityRouter: Float32Array, streamCount: number, epsilon: number): Float64Array {
  const hiddenSize = input.length;
  const normed = rmsNorm(input, routerNorm, epsilon);
  for (let index = 0; index < hiddenSize; index++) normed[index] = normed[index]! / hiddenSize;
  const routed = linear(modalityRouter, normed, hiddenSize, streamCount);
  return Float64Array.from(routed, Math.tanh);
}

/**
 * Predict step: `P_i = H_i + Σ_j C[i][j]·H_j` with `C[i][j] = prediction_coefs(m)[N·i + j]`.
 * HF reshapes the N² outputs to [N, N], transposes the last two axes and multiplies the streams
 * (as columns) by it, which is this index order. Prediction coefficients are clipped only in
 * training (HF `if self.training and altup_coef_clip`), so not here.
 */
export function altupPredict(streams: Float32Array[], modalities: Float64Array, predictionCoefficients: Float32Array): Float32Array[] {
  const streamCount = streams.length;
  const coefficients = linear(predictionCoefficients, Float32Array.from(modalities), streamCount, streamCount * streamCount);
  return streams.map((stream, outputStream) => {
    const prediction = new Float32Array(stream.length);
    for (let index = 0; index < stream.length; index++) {
      let sum = stream[index]!;
      for (let inputStream = 0; inputStream < streamCount; inputStream++) {
        sum += coefficients[streamCount * outputStream + inputStream]! * streams[inputStream]![index]!;
      }
      prediction[index] = sum;
    }
    return prediction;
  });
}

/**
 * Correct step: `Q_i = P_i + (correction_coefs(m')[i] + 1)·(z − P_active)`. HF clamps the
 * correction weights to ±altup_coef_clip at inference too (`correction_coefs.weight.data.clamp_`),
 * so the clamp is applied to the weights here (a no-op for released checkpoints).
 */
export function altupCorrect(
  predictions: Float32Array[],
  activated: Float32Array,
  modalities: Float64Array,
  correctionCoefficients: Float32Array,
  activeIndex: number,
  coefficientClip: number | null,
): Float32Array[] {
  const streamCount = predictions.length;
  const clipped = coefficientClip === null
    ? correctionCoefficients
    : correctionCoefficients.map((value) => Math.min(coefficientClip, Math.max(-coefficientClip, value)));
  const coefficients = linear(clipped, Float32Array.from(modalities), streamCount, streamCount);
  const active = predictions[activeIndex]!;
  return predictions.map((prediction, stream) => {
    const scale = coefficients[stream]! + 1;
    const corrected = new Float32Array(prediction.length);
    for (let index = 0; index < prediction.length; index++) {
      corrected[index] = prediction[index]! + scale * (activated[index]! - active[index]!);
    }
    return corrected;
  });
}

/**
 * `projection(x) · r / sqrt(max(mean(projection(x)²), 1e-5))`, the magnitude matching used by
 * the stream initialisation (§1.4, `altup_projections`) and the output (§1.9,
 * `altup_unembed_projections`); `targetRms` is the RMS of stream 0 (HF hard-codes stream 0 there).
 */
export function projectToMagnitude(projection: Float32Array, input: Float32Array, targetRms: number): Float32Array {
  const hiddenSize = input.length;
  const projected = linear(projection, input, hiddenSize, hiddenSize);
  const scale = targetRms / Math.sqrt(Math.max(meanOfSquares(projected), 1e-5));
  for (let index = 0; index < hiddenSize; index++) projected[index] = projected[index]! * scale;
  return projected;
}
