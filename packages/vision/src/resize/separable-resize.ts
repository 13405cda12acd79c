import type { ResampleAxis } from './resample-axis';

/**
 * Separable resampling of an interleaved (HWC) image: a horizontal pass (width) into a buffer of
 * `outputWidth × inputHeight`, then a vertical pass (height). Pillow and PyTorch both run the
 * horizontal pass first and both skip a pass whose size does not change; so does this.
 */

export interface InterleavedImage<Data> {
  width: number;
  height: number;
  channels: number;
  data: Data;
}

const identity = (value: number): number => value;

/**
 * Floating-point passes with no rounding in between. With `float32`, every sum is rounded to
 * float32 as PyTorch's float kernel (`interpolate_aa_single_dim`) does: `output = t0·w0`, then
 * `output += t·w` per tap. With `fusedMultiplyAdd` those `+=` are fused (the product is not
 * rounded on its own), which is what a compiler emits on FMA hardware when it contracts the
 * statement (clang by default, CUDA); without, the product is rounded first. Without `float32`
 * the arithmetic is float64.
 */
export function resampleFloat(
  image: InterleavedImage<ArrayLike<number>>,
  horizontal: ResampleAxis,
  vertical: ResampleAxis,
  float32: boolean,
  fusedMultiplyAdd = false,
): InterleavedImage<Float64Array> {
  const round = float32 ? Math.fround : identity;
  const roundProduct = fusedMultiplyAdd ? identity : round;
  const { channels } = image;
  let current: InterleavedImage<ArrayLike<number>> = image;

  if (horizontal.outputSize !== image.width) {
    const { outputSize, taps, first, count, weights } = horizontal;
    const height = current.height;
    const source = current.data;
    const sourceRow = current.width * channels;
    const target = new Float64Array(outputSize * height * channels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < outputSize; x++) {
        const start = first[x] as number;
        const length = count[x] as number;
        const weightOffset = x * taps;
        for (let channel = 0; channel < channels; channel++) {
          let base = y * sourceRow + start * channels + channel;
          let sum = round((source[base] as number) * (weights[weightOffset] as number));
          for (let tap = 1; tap < length; tap++) {
            base += channels;
            sum = round(sum + roundProduct((source[base] as number) * (weights[weightOffset + tap] as number)));
          }
          target[(y * outputSize + x) * channels + channel] = length > 0 ? sum : 0;
        }
      }
    }
    current = { width: outputSize, height, channels, data: target };
  }

  if (vertical.outputSize !== image.height) {
    const { outputSize, taps, first, count, weights } = vertical;
    const width = current.width;
    const source = current.data;
    const rowLength = width * channels;
    const target = new Float64Array(rowLength * outputSize);
    for (let y = 0; y < outputSize; y++) {
      const start = first[y] as number;
      const length = count[y] as number;
      const weightOffset = y * taps;
      const targetRow = y * rowLength;
      for (let index = 0; index < rowLength; index++) {
        let base = start * rowLength + index;
        let sum = round((source[base] as number) * (weights[weightOffset] as number));
        for (let tap = 1; tap < length; tap++) {
          base += rowLength;
          sum = round(sum + roundProduct((source[base] as number) * (weights[weightOffset + tap] as number)));
        }
        target[targetRow + index] = length > 0 ? sum : 0;
      }
    }
    current = { width, height: outputSize, channels, data: target };
  }

  if (current === image) return { ...image, data: Float64Array.from(image.data) };
  return current as InterleavedImage<Float64Array>;
}

/** Fixed-point weights: `round(weight · 2^precision)`, rounding half away from zero as Pillow and PyTorch do. */
export function fixedPointWeights(axis: ResampleAxis, precision: number): Int32Array {
  const unit = 2 ** precision;
  const result = new Int32Array(axis.weights.length);
  for (let index = 0; index < axis.weights.length; index++) {
    const value = (axis.weights[index] as number) * unit;
    result[index] = value < 0 ? Math.trunc(-0.5 + value) : Math.trunc(0.5 + value);
  }
  return result;
}

/**
 * 8-bit passes with integer weights, rounded and clamped to 0…255 after **each** pass — Pillow's
 * `ImagingResampleHorizontal_8bpc`/`Vertical_8bpc` and PyTorch's uint8 AVX2 kernel. Each pass
 * adds half a unit, sums `pixel × weight`, shifts right by its precision and clamps.
 */
export function resampleFixedPoint(
  image: InterleavedImage<Uint8Array>,
  horizontal: ResampleAxis,
  vertical: ResampleAxis,
  precisionOf: (axis: ResampleAxis) => number,
): InterleavedImage<Uint8Array> {
  const { channels } = image;
  let current = image;

  if (horizontal.outputSize !== image.width) {
    const precision = precisionOf(horizontal);
    const weights = fixedPointWeights(horizontal, precision);
    const half = 2 ** (precision - 1);
    const { outputSize, taps, first, count } = horizontal;
    const height = current.height;
    const source = current.data;
    const sourceRow = current.width * channels;
    const target = new Uint8Array(outputSize * height * channels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < outputSize; x++) {
        const start = first[x] as number;
        const length = count[x] as number;
        const weightOffset = x * taps;
        for (let channel = 0; channel < channels; channel++) {
          let base = y * sourceRow + start * channels + channel;
          let sum = half;
          for (let tap = 0; tap < length; tap++, base += channels) {
            sum += (source[base] as number) * (weights[weightOffset + tap] as number);
          }
          target[(y * outputSize + x) * channels + channel] = clampToByte(sum >> precision);
        }
      }
    }
    current = { width: outputSize, height, channels, data: target };
  }

  if (vertical.outputSize !== image.height) {
    const precision = precisionOf(vertical);
    const weights = fixedPointWeights(vertical, precision);
    const half = 2 ** (precision - 1);
    const { outputSize, taps, first, count } = vertical;
    const width = current.width;
    const source = current.data;
    const rowLength = width * channels;
    const target = new Uint8Array(rowLength * outputSize);
    for (let y = 0; y < outputSize; y++) {
      const start = first[y] as number;
      const length = count[y] as number;
      const weightOffset = y * taps;
      for (let index = 0; index < rowLength; index++) {
        let base = start * rowLength + index;
        let sum = half;
        for (let tap = 0; tap < length; tap++, base += rowLength) {
          sum += (source[base] as number) * (weights[weightOffset + tap] as number);
        }
        target[y * rowLength + index] = clampToByte(sum >> precision);
      }
    }
    current = { width, height: outputSize, channels, data: target };
  }

  return current === image ? { ...image, data: image.data.slice() } : current;
}

function clampToByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Pillow's fixed-point precision: 22 fractional bits (`PRECISION_BITS = 32 − 8 − 2`). */
export function pillowPrecision(): number {
  return 22;
}

/**
 * PyTorch's uint8 precision (`_compute_index_ranges_int16_weights`): weights are int16, so the
 * precision is the largest (at most 22) at which the axis's largest weight still fits in 15 bits.
 */
export function torchUint8Precision(axis: ResampleAxis): number {
  let largest = 0;
  for (let index = 0; index < axis.weights.length; index++) largest = Math.max(largest, axis.weights[index] as number);
  let precision = 0;
  for (; precision < 22; precision++) {
    const next = Math.trunc(0.5 + largest * 2 ** (precision + 1));
    if (next >= 2 ** 15) break;
  }
  return precision;
}
