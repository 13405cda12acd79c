/**
 * Per-axis resampling plans: for each output index, the first input index it reads, how many
 * inputs it reads, and their weights. A 2-D resize is two such 1-D passes (separable filter).
 *
 * Antialiased bilinear, as Pillow (`precompute_coeffs` in libImaging/Resample.c) and PyTorch
 * (`_compute_indices_min_size_weights_aa` in ATen's UpSampleKernel.cpp) both define it:
 * - scale = inputSize / outputSize; the triangle filter `max(0, 1 − |x|)` is stretched by
 *   `max(scale, 1)`, so a downscale by s averages over ±s input pixels (that is the antialiasing;
 *   an upscale keeps the plain ±1 triangle, i.e. ordinary bilinear);
 * - pixel centres sit at `i + 0.5`: output i is centred on input coordinate `(i + 0.5) · scale`;
 * - the window is [trunc(centre − support + 0.5), trunc(centre + support + 0.5)) clipped to the
 *   image, and the weights are divided by their sum, so edge pixels renormalise instead of
 *   reading a padded border.
 */

export interface ResampleAxis {
  inputSize: number;
  outputSize: number;
  /** Weights per output index in `weights` (the maximum window length). */
  taps: number;
  /** First input index read by each output index. */
  first: Int32Array;
  /** Number of input indices read by each output index (≤ `taps`). */
  count: Int32Array;
  /** `outputSize × taps` weights, row-major; unused slots are 0. */
  weights: Float64Array;
}

function triangle(x: number): number {
  const distance = x < 0 ? -x : x;
  return distance < 1 ? 1 - distance : 0;
}

/** Antialiased bilinear weights in float64 — Pillow's and PyTorch's uint8 path's arithmetic. */
export function antialiasAxisFloat64(inputSize: number, outputSize: number): ResampleAxis {
  const scale = inputSize / outputSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = filterScale; // the triangle's own support is 1
  const inverseFilterScale = 1 / filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outputSize);
  const count = new Int32Array(outputSize);
  const weights = new Float64Array(outputSize * taps);
  for (let output = 0; output < outputSize; output++) {
    const centre = (output + 0.5) * scale;
    const start = Math.max(Math.trunc(centre - support + 0.5), 0);
    const end = Math.min(Math.trunc(centre + support + 0.5), inputSize);
    // PyTorch clips the count to `taps` (a float-precision guard); Pillow never exceeds it in practice.
    const length = Math.min(Math.max(end - start, 0), taps);
    let total = 0;
    for (let tap = 0; tap < length; tap++) {
      const weight = triangle((tap + start - centre + 0.5) * inverseFilterScale);
      weights[output * taps + tap] = weight;
      total += weight;
    }
    if (total !== 0) {
      for (let tap = 0; tap < length; tap++) weights[output * taps + tap] = (weights[output * taps + tap] as number) / total;
    }
    first[output] = start;
    count[output] = length;
  }
  return { inputSize, outputSize, taps, first, count, weights };
}

/**
 * Antialiased bilinear weights exactly as PyTorch computes them for a float32 tensor
 * (`scalar_t = float`): every intermediate that C++ stores in a `float` is rounded to float32
 * here with `Math.fround`, and the ones it keeps in `double` (literals like `0.5`) are not.
 * This is the arithmetic of torchvision's `resize(antialias=True)` when it runs in float — on a
 * GPU, on CPUs without AVX2 (Apple Silicon, other ARM) — and so of `SiglipImageProcessorFast`
 * there.
 */
export function antialiasAxisFloat32(inputSize: number, outputSize: number): ResampleAxis {
  const toFloat32 = Math.fround;
  const scale = toFloat32(inputSize / outputSize);
  const support = scale >= 1 ? scale : 1;
  const inverseScale = scale >= 1 ? toFloat32(1 / scale) : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outputSize);
  const count = new Int32Array(outputSize);
  const weights = new Float64Array(outputSize * taps);
  const row = new Float64Array(taps);
  for (let output = 0; output < outputSize; output++) {
    const centre = toFloat32(scale * (output + 0.5));
    const start = Math.max(Math.trunc(toFloat32(centre - support) + 0.5), 0);
    const end = Math.min(Math.trunc(toFloat32(centre + support) + 0.5), inputSize);
    const length = Math.min(Math.max(end - start, 0), taps);
    let total = 0;
    for (let tap = 0; tap < length; tap++) {
      const argument = toFloat32((toFloat32(tap + start - centre) + 0.5) * inverseScale);
      const weight = toFloat32(triangle(argument));
      row[tap] = weight;
      total = toFloat32(total + weight);
    }
    for (let tap = 0; tap < length; tap++) {
      weights[output * taps + tap] = total !== 0 ? toFloat32((row[tap] as number) / total) : (row[tap] as number);
    }
    first[output] = start;
    count[output] = length;
  }
  return { inputSize, outputSize, taps, first, count, weights };
}
