import { InputError } from '@gemma3n/core';
import { assertImagePixels, type ImagePixels, toRgb } from '../image/image-pixels';
import { resizeRgb } from '../resize/resize-image';
import {
  type AntialiasArithmetic,
  gemma3nPreprocessorDefaults,
  type PreprocessorOptions,
  type ResampleMethod,
} from './preprocessor-options';

/** The vision encoder's input: float32, channels first, `dims = [N, 3, height, width]`. */
export interface PixelValues {
  data: Float32Array;
  dims: [number, 3, number, number];
}

const resampleMethods: readonly ResampleMethod[] = ['bilinear-antialias', 'bilinear'];
const arithmetics: readonly AntialiasArithmetic[] = ['torchvision-float32', 'torchvision-uint8', 'pillow'];

/**
 * Turns images into the vision encoder's `pixel_values`, the way `SiglipImageProcessorFast`
 * does for Gemma 3n: RGB (alpha dropped, grey replicated), resize to `size` with the
 * antialiased bilinear filter, rounded to 8 bits, then `value · rescale_factor` (float32) and,
 * only when `doNormalize`, `(value − mean) / std` — with rescale and normalisation fused the way
 * HF fuses them. Options default to the Gemma 3n release values; pass
 * `preprocessorOptionsFromConfig(json)` to follow a model folder.
 */
export function pixelValues(images: readonly ImagePixels[], options: Partial<PreprocessorOptions> = {}): PixelValues {
  if (!Array.isArray(images)) {
    throw new InputError({ field: 'images', value: images, expected: 'an array of images { width, height, channels, data }' });
  }
  if (images.length === 0) {
    throw new InputError({ field: 'images', value: images, expected: 'at least one image' });
  }
  const resolved = resolveOptions(options);
  const { height, width } = resolved.size;
  const planeSize = height * width;
  const data = new Float32Array(images.length * 3 * planeSize);
  const transform = sampleTransform(resolved);

  images.forEach((image, index) => {
    const field = `images[${index}]`;
    assertImagePixels(image, field);
    let rgb = toRgb(image);
    if (resolved.doResize) {
      rgb = resizeRgb(rgb, { width, height, resample: resolved.resample, antialiasArithmetic: resolved.antialiasArithmetic });
    } else if (rgb.width !== width || rgb.height !== height) {
      throw new InputError({
        field,
        value: `${rgb.width}×${rgb.height}`,
        expected: `an image of ${width}×${height} (doResize is false, so images are not resized)`,
      });
    }
    const imageOffset = index * 3 * planeSize;
    const bytes = rgb.data;
    for (let channel = 0; channel < 3; channel++) {
      const planeOffset = imageOffset + channel * planeSize;
      const table = transform[channel] as Float32Array;
      for (let pixel = 0, source = channel; pixel < planeSize; pixel++, source += 3) {
        data[planeOffset + pixel] = table[bytes[source] as number] as number;
      }
    }
  });
  return { data, dims: [images.length, 3, height, width] };
}

/**
 * Per-channel byte → float mapping, in the float arithmetic of the processor being matched (the
 * values differ only in the last float32 bit, but "matches" should mean equal):
 * - torchvision paths (`SiglipImageProcessorFast`): rescale is `v · float32(factor)`, one
 *   float32 multiply (torch turns the Python scalar into float32 first); with normalisation HF
 *   folds the factor into mean and std (`float32(mean) · float32(1/factor)`, same for std) and
 *   computes `(v − mean') / std'` in float32;
 * - Pillow path (`SiglipImageProcessor`, NumPy): rescale is `float32(float64(v) · factor)`;
 *   normalisation then subtracts and divides in float32;
 * - transformers.js (`resample: 'bilinear'`): rescale as NumPy; normalisation in float64 on the
 *   float32 value, stored as float32.
 * The result is a 256-entry table per channel, so the loop over pixels is a lookup.
 */
function sampleTransform(options: PreprocessorOptions): Float32Array[] {
  const toFloat32 = Math.fround;
  const flavour =
    options.resample === 'bilinear' ? 'transformers-js' : options.antialiasArithmetic === 'pillow' ? 'numpy' : 'torch';
  const tables = [0, 1, 2].map((channel) => {
    const table = new Float32Array(256);
    const mean = options.imageMean[channel] as number;
    const std = options.imageStd[channel] as number;
    for (let value = 0; value < 256; value++) {
      if (flavour === 'torch') {
        if (options.doNormalize) {
          const divisor = options.doRescale ? toFloat32(1 / options.rescaleFactor) : 1;
          const foldedMean = toFloat32(toFloat32(mean) * divisor);
          const foldedStd = toFloat32(toFloat32(std) * divisor);
          table[value] = toFloat32(toFloat32(value - foldedMean) / foldedStd);
        } else {
          table[value] = options.doRescale ? toFloat32(value * toFloat32(options.rescaleFactor)) : value;
        }
        continue;
      }
      const rescaled = options.doRescale ? toFloat32(value * options.rescaleFactor) : value;
      if (!options.doNormalize) table[value] = rescaled;
      else if (flavour === 'numpy') table[value] = toFloat32(toFloat32(rescaled - toFloat32(mean)) / toFloat32(std));
      else table[value] = toFloat32((rescaled - mean) / std);
    }
    return table;
  });
  return tables;
}

function resolveOptions(options: Partial<PreprocessorOptions>): PreprocessorOptions {
  if (options === null || typeof options !== 'object') {
    throw new InputError({ field: 'options', value: options, expected: 'an object of preprocessing options' });
  }
  const resolved: PreprocessorOptions = { ...gemma3nPreprocessorDefaults, ...definedEntries(options) };
  const { size } = resolved;
  if (
    size === null ||
    typeof size !== 'object' ||
    !Number.isInteger(size.height) ||
    !Number.isInteger(size.width) ||
    size.height <= 0 ||
    size.width <= 0
  ) {
    throw new InputError({ field: 'options.size', value: size, expected: '{ height, width } with positive integers' });
  }
  if (!resampleMethods.includes(resolved.resample)) {
    throw new InputError({ field: 'options.resample', value: resolved.resample, expected: resampleMethods.map((name) => `"${name}"`).join(' or ') });
  }
  if (!arithmetics.includes(resolved.antialiasArithmetic)) {
    throw new InputError({
      field: 'options.antialiasArithmetic',
      value: resolved.antialiasArithmetic,
      expected: arithmetics.map((name) => `"${name}"`).join(', '),
    });
  }
  if (!Number.isFinite(resolved.rescaleFactor) || resolved.rescaleFactor <= 0) {
    throw new InputError({ field: 'options.rescaleFactor', value: resolved.rescaleFactor, expected: 'a positive number' });
  }
  for (const key of ['imageMean', 'imageStd'] as const) {
    const triple = resolved[key];
    if (!Array.isArray(triple) || triple.length !== 3 || !triple.every((entry) => Number.isFinite(entry))) {
      throw new InputError({ field: `options.${key}`, value: triple, expected: 'three finite numbers' });
    }
  }
  if (resolved.doNormalize && resolved.imageStd.some((entry) => entry === 0)) {
    throw new InputError({ field: 'options.imageStd', value: resolved.imageStd, expected: 'non-zero numbers (they divide)' });
  }
  return resolved;
}

/** Drops `undefined` entries so that `{ size: undefined }` keeps the default. */
function definedEntries<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
