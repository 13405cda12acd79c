import { InputError } from '@gemma3n/core';

/**
 * One triangular mel filter, stored sparsely: `weights[i]` applies to FFT bin `firstBin + i`.
 * Only bins with a non-zero weight are kept, so applying the bank to a frame costs about two
 * multiply-adds per FFT bin instead of `binCount × filterCount`.
 */
export interface MelFilter {
  firstBin: number;
  weights: Float64Array;
}

export interface MelFilterBankParams {
  /** Number of FFT bins, `fftLength / 2 + 1`. */
  binCount: number;
  filterCount: number;
  minFrequency: number;
  maxFrequency: number;
  samplingRate: number;
  fftLength: number;
}

/** HTK mel scale: `2595·log10(1 + f/700)`. */
export function hertzToMelHtk(frequency: number): number {
  return 2595 * Math.log10(1 + frequency / 700);
}

/** Inverse of {@link hertzToMelHtk}: `700·(10^(m/2595) − 1)`. */
export function melToHertzHtk(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

/**
 * Dense HTK mel filter bank, `[binCount][filterCount]` flattened row-major, with no area
 * normalisation: the `create_fb_matrix` of transformers' Gemma 3n feature extractor.
 *
 * - Bin k sits at `k · samplingRate / fftLength` Hz (computed in float32 there; exact for the
 *   release values, 15.625 Hz steps).
 * - `filterCount + 2` edge frequencies are evenly spaced in HTK mel between the min and max
 *   frequency (NumPy `linspace`: `start + i·step`, last point set to the stop value exactly).
 * - Filter m rises from edge m to edge m+1 and falls to edge m+2, measured in Hz:
 *   `max(0, min((f − e[m]) / (e[m+1] − e[m]), (e[m+2] − f) / (e[m+2] − e[m+1])))`.
 */
export function melFilterBankDense(params: MelFilterBankParams): Float64Array {
  const { binCount, filterCount, minFrequency, maxFrequency, samplingRate, fftLength } = params;
  if (!(minFrequency >= 0 && maxFrequency > minFrequency)) {
    throw new InputError({
      field: 'options.minFrequency',
      value: minFrequency,
      expected: `a frequency ≥ 0 below maxFrequency (${maxFrequency} Hz)`,
    });
  }
  const melMin = hertzToMelHtk(minFrequency);
  const melMax = hertzToMelHtk(maxFrequency);
  const edgeCount = filterCount + 2;
  const step = (melMax - melMin) / (edgeCount - 1);
  const edges = new Float64Array(edgeCount);
  for (let index = 0; index < edgeCount; index++) {
    edges[index] = melToHertzHtk(index === edgeCount - 1 ? melMax : index * step + melMin);
  }
  const binWidth = samplingRate / fftLength;
  const bank = new Float64Array(binCount * filterCount);
  for (let bin = 0; bin < binCount; bin++) {
    const frequency = Math.fround(bin * binWidth);
    for (let filter = 0; filter < filterCount; filter++) {
      const rising = -(edges[filter]! - frequency) / (edges[filter + 1]! - edges[filter]!);
      const falling = (edges[filter + 2]! - frequency) / (edges[filter + 2]! - edges[filter + 1]!);
      bank[bin * filterCount + filter] = Math.max(0, Math.min(rising, falling));
    }
  }
  return bank;
}

/** The same bank as {@link melFilterBankDense}, one sparse filter per mel bin. */
export function melFilterBank(params: MelFilterBankParams): MelFilter[] {
  const dense = melFilterBankDense(params);
  const filters: MelFilter[] = [];
  for (let filter = 0; filter < params.filterCount; filter++) {
    let firstBin = -1;
    let lastBin = -1;
    for (let bin = 0; bin < params.binCount; bin++) {
      if (dense[bin * params.filterCount + filter]! > 0) {
        if (firstBin < 0) firstBin = bin;
        lastBin = bin;
      }
    }
    // A filter narrower than one bin can be empty: it then contributes 0 and the feature is
    // the log of the mel floor, exactly as the dense product would give.
    const weights = new Float64Array(firstBin < 0 ? 0 : lastBin - firstBin + 1);
    for (let index = 0; index < weights.length; index++) {
      weights[index] = dense[(firstBin + index) * params.filterCount + filter]!;
    }
    filters.push({ firstBin: Math.max(firstBin, 0), weights });
  }
  return filters;
}
