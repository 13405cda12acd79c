import type { RgbPixels } from '../image/image-pixels';
import type { AntialiasArithmetic, ResampleMethod } from '../preprocess/preprocessor-options';
import { antialiasAxisFloat32, antialiasAxisFloat64 } from './resample-axis';
import { resizeBilinearLikeSharp } from './resize-bilinear';
import { pillowPrecision, resampleFixedPoint, resampleFloat, torchUint8Precision } from './separable-resize';

export interface ResizeOptions {
  width: number;
  height: number;
  resample?: ResampleMethod;
  antialiasArithmetic?: AntialiasArithmetic;
}

/**
 * Resizes an RGB image to `width × height` and returns 8-bit RGB, as every Hugging Face path
 * does before rescaling (torchvision casts its float result back to uint8; Pillow works in 8
 * bits). An image that already has the size is returned as a copy, untouched by any filter, as
 * torchvision, Pillow and transformers.js all do.
 */
export function resizeRgb(image: RgbPixels, options: ResizeOptions): RgbPixels {
  const { width, height } = options;
  const resample = options.resample ?? 'bilinear-antialias';
  const arithmetic = options.antialiasArithmetic ?? 'torchvision-float32';
  if (width === image.width && height === image.height) {
    return { width, height, channels: 3, data: image.data.slice() };
  }
  if (resample === 'bilinear') {
    const resized = resizeBilinearLikeSharp(image, width, height);
    return { width, height, channels: 3, data: resized.data };
  }
  if (arithmetic === 'torchvision-float32') {
    const horizontal = antialiasAxisFloat32(image.width, width);
    const vertical = antialiasAxisFloat32(image.height, height);
    const resized = resampleFloat(image, horizontal, vertical, true, true);
    return { width, height, channels: 3, data: roundToBytesHalfEven(resized.data) };
  }
  const horizontal = antialiasAxisFloat64(image.width, width);
  const vertical = antialiasAxisFloat64(image.height, height);
  const precisionOf = arithmetic === 'pillow' ? pillowPrecision : torchUint8Precision;
  const resized = resampleFixedPoint(image, horizontal, vertical, precisionOf);
  return { width, height, channels: 3, data: resized.data };
}

/**
 * torchvision's cast back to uint8: `round_()` (half to even, like `std::nearbyint`) and then a
 * conversion; values are clamped to 0…255 first because a float sum can land a hair outside.
 */
export function roundToBytesHalfEven(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as number;
    let rounded = Math.round(value);
    if (rounded - value === 0.5 && rounded % 2 !== 0) rounded -= 1;
    bytes[index] = rounded < 0 ? 0 : rounded > 255 ? 255 : rounded;
  }
  return bytes;
}
