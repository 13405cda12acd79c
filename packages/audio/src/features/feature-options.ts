import { InputError, UnsupportedError } from '@gemma3n/core';

/**
 * Options of the log-mel feature extractor. Each mirrors a field of the released
 * `preprocessor_config.json` (`feature_size` → `featureSize`, …); the defaults are the values
 * google/gemma-3n-E2B-it and -E4B-it ship with.
 */
export interface FeatureOptions {
  /** Mel bins per frame (`feature_size`). */
  featureSize: number;
  /** Expected input rate in Hz (`sampling_rate`); the extractor does not resample. */
  samplingRate: number;
  /** Samples per analysis frame after pre-emphasis (`frame_length`); windows read one more. */
  frameLength: number;
  /** Samples between frame starts (`hop_length`). */
  hopLength: number;
  /** FFT size, a power of two ≥ frameLength (`fft_length`). */
  fftLength: number;
  /** Lower edge of the first mel filter, Hz (`min_frequency`). */
  minFrequency: number;
  /** Upper edge of the last mel filter, Hz (`max_frequency`). */
  maxFrequency: number;
  /** Pre-emphasis coefficient; 0 turns it off (`preemphasis`). */
  preemphasis: number;
  /** HTK flavour: first sample scaled by 1 − p instead of using the sample before the frame. */
  preemphasisHtkFlavor: boolean;
  /** Floor applied before the log (`mel_floor`). */
  melFloor: number;
  /** Multiplies the waveform first (`input_scale_factor`). */
  inputScaleFactor: number;
  /** Subtracted from each log-mel bin when given (`per_bin_mean`). */
  perBinMean: readonly number[] | undefined;
  /** Divides each log-mel bin when given, after the mean (`per_bin_stddev`). */
  perBinStddev: readonly number[] | undefined;
  /**
   * Samples kept; longer input is truncated (`max_length` of the call, 30 s). As in
   * transformers, a value that is not a multiple of padToMultipleOf is rounded up to one.
   */
  maxLength: number;
  /** The padded length is a multiple of this (`pad_to_multiple_of` of the call). */
  padToMultipleOf: number;
}

/** The release configuration of Gemma 3n's audio feature extractor. */
export const defaultFeatureOptions: Readonly<FeatureOptions> = Object.freeze({
  featureSize: 128,
  samplingRate: 16_000,
  frameLength: 512,
  hopLength: 160,
  fftLength: 1024,
  minFrequency: 125,
  maxFrequency: 7600,
  preemphasis: 0.97,
  preemphasisHtkFlavor: true,
  melFloor: 1e-5,
  inputScaleFactor: 1,
  perBinMean: undefined,
  perBinStddev: undefined,
  maxLength: 480_000,
  padToMultipleOf: 128,
});

function requireInteger(name: keyof FeatureOptions, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new InputError({ field: `options.${name}`, value, expected: `an integer ≥ ${minimum}` });
  }
}

function requireFinite(name: keyof FeatureOptions, value: number, expected: string, valid: boolean): void {
  if (!Number.isFinite(value) || !valid) throw new InputError({ field: `options.${name}`, value, expected });
}

/** Fills in the defaults and checks every field, naming the first bad one. */
export function resolveFeatureOptions(options: Partial<FeatureOptions> = {}): FeatureOptions {
  const resolved: FeatureOptions = { ...defaultFeatureOptions };
  for (const [key, value] of Object.entries(options) as [keyof FeatureOptions, unknown][]) {
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  requireInteger('featureSize', resolved.featureSize, 1);
  requireInteger('samplingRate', resolved.samplingRate, 1);
  requireInteger('frameLength', resolved.frameLength, 2);
  requireInteger('hopLength', resolved.hopLength, 1);
  requireInteger('maxLength', resolved.maxLength, 1);
  requireInteger('padToMultipleOf', resolved.padToMultipleOf, 1);
  const fftLength = resolved.fftLength;
  if (!Number.isInteger(fftLength) || fftLength < resolved.frameLength || (fftLength & (fftLength - 1)) !== 0) {
    throw new InputError({
      field: 'options.fftLength',
      value: fftLength,
      expected: `a power of two ≥ frameLength (${resolved.frameLength})`,
    });
  }
  const nyquist = resolved.samplingRate / 2;
  requireFinite('minFrequency', resolved.minFrequency, `a frequency in [0, maxFrequency)`,
    resolved.minFrequency >= 0 && resolved.minFrequency < resolved.maxFrequency);
  requireFinite('maxFrequency', resolved.maxFrequency, `a frequency ≤ the Nyquist frequency ${nyquist} Hz`,
    resolved.maxFrequency <= nyquist);
  requireFinite('preemphasis', resolved.preemphasis, 'a number in [0, 1]',
    resolved.preemphasis >= 0 && resolved.preemphasis <= 1);
  requireFinite('melFloor', resolved.melFloor, 'a positive number', resolved.melFloor > 0);
  requireFinite('inputScaleFactor', resolved.inputScaleFactor, 'a finite number', true);
  for (const name of ['perBinMean', 'perBinStddev'] as const) {
    const values = resolved[name];
    if (values !== undefined && (values.length !== resolved.featureSize || !values.every(Number.isFinite))) {
      throw new InputError({
        field: `options.${name}`,
        value: values,
        expected: `${resolved.featureSize} finite numbers (one per mel bin) or undefined`,
      });
    }
  }
  return resolved;
}

/**
 * Maps a parsed `preprocessor_config.json` (its feature-extractor fields) to options. Fields
 * that would change the result in a way this package does not implement are refused rather
 * than ignored: random `dither` > 0, and padding with a value other than 0.
 */
export function featureOptionsFromPreprocessorConfig(config: Record<string, unknown>): Partial<FeatureOptions> {
  const number = (field: string): number | undefined => {
    const value = config[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') {
      throw new InputError({ field: `preprocessor_config.${field}`, value, expected: 'a number' });
    }
    return value;
  };
  const numbers = (field: string): number[] | undefined => {
    const value = config[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'number')) {
      throw new InputError({ field: `preprocessor_config.${field}`, value, expected: 'an array of numbers or null' });
    }
    return value as number[];
  };
  const dither = number('dither');
  if (dither !== undefined && dither !== 0) {
    throw new UnsupportedError({ feature: 'preprocessor_config.dither', value: dither, supported: ['0'] });
  }
  const paddingValue = number('padding_value');
  if (paddingValue !== undefined && paddingValue !== 0) {
    throw new UnsupportedError({ feature: 'preprocessor_config.padding_value', value: paddingValue, supported: ['0'] });
  }
  const htk = config['preemphasis_htk_flavor'];
  if (htk !== undefined && typeof htk !== 'boolean') {
    throw new InputError({ field: 'preprocessor_config.preemphasis_htk_flavor', value: htk, expected: 'a boolean' });
  }
  const options: Partial<FeatureOptions> = {
    featureSize: number('feature_size'),
    samplingRate: number('sampling_rate'),
    frameLength: number('frame_length'),
    hopLength: number('hop_length'),
    fftLength: number('fft_length'),
    minFrequency: number('min_frequency'),
    maxFrequency: number('max_frequency'),
    preemphasis: number('preemphasis'),
    preemphasisHtkFlavor: htk,
    melFloor: number('mel_floor'),
    inputScaleFactor: number('input_scale_factor'),
    perBinMean: numbers('per_bin_mean'),
    perBinStddev: numbers('per_bin_stddev'),
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
