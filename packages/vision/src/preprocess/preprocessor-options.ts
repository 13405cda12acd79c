import { ConfigError, UnsupportedError } from '@gemma3n/core';

/**
 * How the resize is computed.
 * - `bilinear-antialias` — the Hugging Face resize: a triangle filter widened by the downscale
 *   factor (Pillow's and torchvision's `antialias=True`); on upscales it is ordinary bilinear.
 * - `bilinear` — plain bilinear as transformers.js computes it in Node with sharp (no
 *   antialiasing, corner-aligned coordinates, black past the last row/column); choose it only to
 *   reproduce transformers.js's numbers.
 */
export type ResampleMethod = 'bilinear-antialias' | 'bilinear';

/**
 * Whose arithmetic `bilinear-antialias` follows. All three round the resized image to 8 bits,
 * as every Hugging Face path does before rescaling, and differ from each other by at most a few
 * units in the last 8-bit place.
 * - `torchvision-float32` (default) — `SiglipImageProcessorFast` (the processor Gemma 3n's
 *   release config names) where torchvision resizes in float: on GPUs and on CPUs without AVX2
 *   (Apple Silicon, other ARM). Float32, no rounding between the passes, rounded half to even.
 * - `torchvision-uint8` — the same processor on x86 CPUs with AVX2, where torchvision resizes
 *   uint8 directly: int16 fixed-point weights, rounded to 8 bits after each pass.
 * - `pillow` — `SiglipImageProcessor` (the slow, PIL-based one): 22-bit fixed-point weights,
 *   rounded to 8 bits after each pass.
 */
export type AntialiasArithmetic = 'torchvision-float32' | 'torchvision-uint8' | 'pillow';

export interface PreprocessorOptions {
  /** Output size; the image is stretched to it (no aspect preservation, no crop). */
  size: { height: number; width: number };
  /** `do_resize`; when false every image must already have `size`. */
  doResize: boolean;
  resample: ResampleMethod;
  antialiasArithmetic: AntialiasArithmetic;
  /** `do_rescale`. */
  doRescale: boolean;
  /** `rescale_factor`, 1/255 for Gemma 3n. */
  rescaleFactor: number;
  /** `do_normalize`; false for Gemma 3n (its mean/std of 0.5 are listed but unused). */
  doNormalize: boolean;
  imageMean: readonly [number, number, number];
  imageStd: readonly [number, number, number];
}

/** The Gemma 3n release values (`preprocessor_config.json` of google/gemma-3n-E2B-it and -E4B-it). */
export const gemma3nPreprocessorDefaults: PreprocessorOptions = Object.freeze({
  size: Object.freeze({ height: 768, width: 768 }),
  doResize: true,
  resample: 'bilinear-antialias',
  antialiasArithmetic: 'torchvision-float32',
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: false,
  imageMean: Object.freeze([0.5, 0.5, 0.5]) as unknown as readonly [number, number, number],
  imageStd: Object.freeze([0.5, 0.5, 0.5]) as unknown as readonly [number, number, number],
}) as PreprocessorOptions;

const source = 'preprocessor_config.json';

/** PIL's resampling filter numbers (`PIL.Image.Resampling`), as `resample` stores them. */
const pillowFilterNames: Record<number, string> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

/**
 * Reads the image part of a model folder's `preprocessor_config.json` (the merged Gemma 3n file
 * also holds the audio parameters, which are ignored here). Keys that are absent take the
 * Gemma 3n release values; keys that are present but wrong throw a `ConfigError` naming the key;
 * a resample filter other than bilinear throws an `UnsupportedError`. `size` may be
 * `{height, width}` (Gemma 3n uses 768, smaller encoders 512 or 256); the aspect-preserving
 * forms (`shortest_edge`, `longest_edge`) are not used by SigLIP-style processors and are refused.
 */
export function preprocessorOptionsFromConfig(config: unknown): PreprocessorOptions {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError({ source, field: '(root)', value: config, expected: 'a JSON object' });
  }
  const json = config as Record<string, unknown>;
  const defaults = gemma3nPreprocessorDefaults;
  return {
    size: readSize(json.size),
    doResize: readBoolean(json, 'do_resize', defaults.doResize),
    resample: readResample(json.resample),
    antialiasArithmetic: defaults.antialiasArithmetic,
    doRescale: readBoolean(json, 'do_rescale', defaults.doRescale),
    rescaleFactor: readPositiveNumber(json, 'rescale_factor', defaults.rescaleFactor),
    doNormalize: readBoolean(json, 'do_normalize', defaults.doNormalize),
    imageMean: readTriple(json, 'image_mean', defaults.imageMean, false),
    imageStd: readTriple(json, 'image_std', defaults.imageStd, true),
  };
}

function readSize(value: unknown): { height: number; width: number } {
  if (value === undefined) return { ...gemma3nPreprocessorDefaults.size };
  if (typeof value === 'number') {
    // HF turns a bare number into {shortest_edge} for SigLIP (default_to_square=False).
    throw new UnsupportedError({
      feature: 'preprocessor_config.json size',
      value,
      message: `${source}: size ${value} means {shortest_edge: ${value}} (aspect-preserving), which Gemma 3n does not use; expected {"height": H, "width": W}`,
    });
  }
  if (value === null || typeof value !== 'object') {
    throw new ConfigError({ source, field: 'size', value, expected: 'an object {"height": H, "width": W}' });
  }
  const size = value as Record<string, unknown>;
  if (size.height === undefined && size.width === undefined) {
    throw new UnsupportedError({
      feature: 'preprocessor_config.json size',
      value,
      message: `${source}: size ${JSON.stringify(value)} is not supported; expected {"height": H, "width": W} (SigLIP-style processors stretch to a fixed size)`,
    });
  }
  for (const key of ['height', 'width'] as const) {
    const dimension = size[key];
    if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension <= 0) {
      throw new ConfigError({ source, field: `size.${key}`, value: dimension, expected: 'a positive integer' });
    }
  }
  return { height: size.height as number, width: size.width as number };
}

function readResample(value: unknown): ResampleMethod {
  if (value === undefined || value === 2 || value === 'bilinear') return 'bilinear-antialias';
  const name = typeof value === 'number' ? pillowFilterNames[value] : undefined;
  if (name !== undefined || typeof value === 'string') {
    throw new UnsupportedError({
      feature: 'preprocessor_config.json resample filter',
      value: name ?? value,
      supported: ['2 (bilinear)'],
    });
  }
  throw new ConfigError({ source, field: 'resample', value, expected: 'a PIL filter number (2 = bilinear)' });
}

function readBoolean(json: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = json[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError({ source, field: key, value, expected: 'true or false' });
  return value;
}

function readPositiveNumber(json: Record<string, unknown>, key: string, fallback: number): number {
  const value = json[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError({ source, field: key, value, expected: 'a positive number' });
  }
  return value;
}

function readTriple(
  json: Record<string, unknown>,
  key: string,
  fallback: readonly [number, number, number],
  nonZero: boolean,
): readonly [number, number, number] {
  const value = json[key];
  if (value === undefined || value === null) return fallback;
  // HF accepts one number for all channels.
  const list = typeof value === 'number' ? [value, value, value] : value;
  const valid =
    Array.isArray(list) &&
    list.length === 3 &&
    list.every((entry) => typeof entry === 'number' && Number.isFinite(entry) && (!nonZero || entry !== 0));
  if (!valid) {
    throw new ConfigError({
      source,
      field: key,
      value,
      expected: nonZero ? 'three non-zero numbers (one per RGB channel)' : 'three numbers (one per RGB channel)',
    });
  }
  return [list[0], list[1], list[2]] as [number, number, number];
}
