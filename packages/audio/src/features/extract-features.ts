import { InputError } from '@gemma3n/core';
import { type FeatureOptions, resolveFeatureOptions } from './feature-options';
import { type MelFilter, melFilterBank } from './mel-filter-bank';
import { RealFft } from './real-fft';

/** Mono samples; other array types are converted to float32 first, as the reference does. */
export type AudioSamples = Float32Array | Float64Array | readonly number[];

/** Log-mel features of one clip, laid out frame-major like `input_features[0]`. */
export interface AudioFeatures {
  /** `frames × featureSize` log-mel values, frame-major. */
  features: Float32Array;
  frames: number;
  featureSize: number;
  /**
   * 1 where frame f is valid, i.e. sample `f·hopLength` is a real sample rather than padding
   * (Python's `input_features_mask`). The model's own audio mask is the inverse (1 = padding).
   */
  mask: Uint8Array;
  /** Real samples used, after truncation (the padding is not counted). */
  sampleCount: number;
  /** True when the input was longer than `maxLength` (30 s) and its tail was dropped. */
  truncated: boolean;
}

/**
 * Gemma 3n's audio feature extractor (transformers' `Gemma3nAudioFeatureExtractor`, Python
 * semantics) with its filter bank, window and FFT tables built once and reused across clips.
 */
export class AudioFeatureExtractor {
  readonly options: Readonly<FeatureOptions>;
  private readonly fft: RealFft;
  private readonly window: Float32Array;
  /** All filters' weights back to back; filter m covers weights [weightStart[m], weightStart[m+1]). */
  private readonly filterWeights: Float64Array;
  private readonly weightStart: Int32Array;
  /** FFT bin of each filter's first weight. */
  private readonly filterFirstBin: Int32Array;
  /** Float32, like the reference's frames: storing rounds each windowed sample to float32. */
  private readonly frameBuffer: Float32Array;
  private readonly magnitudeBuffer: Float64Array;

  constructor(options: Partial<FeatureOptions> = {}) {
    this.options = Object.freeze(resolveFeatureOptions(options));
    const { frameLength, fftLength } = this.options;
    this.fft = new RealFft(fftLength);
    // Periodic Hann 0.5·(1 − cos(2πn/N)), n < N, evaluated step by step in float32 as NumPy
    // does for the reference's float32 arange. Weak FFT bins sit 60 dB or more below a frame's
    // peak, so even float32-sized differences in the window show up at 1e-4 in their log-mel.
    const fround = Math.fround;
    const twoPi = fround(2 * Math.PI);
    this.window = new Float32Array(frameLength);
    for (let n = 0; n < frameLength; n++) {
      this.window[n] = 0.5 * fround(1 - fround(Math.cos(fround(fround(twoPi * n) / frameLength))));
    }
    const filters: MelFilter[] = melFilterBank({
      binCount: this.fft.binCount,
      filterCount: this.options.featureSize,
      minFrequency: this.options.minFrequency,
      maxFrequency: this.options.maxFrequency,
      samplingRate: this.options.samplingRate,
      fftLength,
    });
    // One flat array instead of 128 small ones keeps the inner loop on a single typed array.
    this.weightStart = new Int32Array(filters.length + 1);
    this.filterFirstBin = new Int32Array(filters.length);
    filters.forEach((filter, index) => {
      this.weightStart[index + 1] = this.weightStart[index]! + filter.weights.length;
      this.filterFirstBin[index] = filter.firstBin;
    });
    this.filterWeights = new Float64Array(this.weightStart[filters.length]!);
    filters.forEach((filter, index) => this.filterWeights.set(filter.weights, this.weightStart[index]!));
    this.frameBuffer = new Float32Array(frameLength);
    this.magnitudeBuffer = new Float64Array(this.fft.binCount);
  }

  /** Frames produced for `sampleCount` input samples: truncate, pad, then `(N − L − 1)//hop + 1`. */
  frameCount(sampleCount: number): number {
    return this.framesForPaddedLength(this.paddedLength(sampleCount));
  }

  private framesForPaddedLength(paddedLength: number): number {
    const windowLength = this.options.frameLength + 1;
    return paddedLength < windowLength ? 0 : Math.floor((paddedLength - windowLength) / this.options.hopLength) + 1;
  }

  /**
   * Extracts log-mel features from mono samples at `options.samplingRate` (16 kHz), nominally
   * in [−1, 1]. Throws an {@link InputError} for empty input or a non-finite sample. Input
   * under one window (≤ 384 samples with the defaults, which pad to < 513) yields 0 frames, as
   * in Python. Silence yields valid frames whose every value is `log(melFloor)`.
   */
  extract(samples: AudioSamples): AudioFeatures {
    this.requireNonEmpty(samples, 'samples');
    return this.extractPadded(samples, this.paddedLength(samples.length), 'samples');
  }

  /**
   * A batch, as the Python preprocessor pads it: every clip is truncated, then zero-padded to
   * the longest clip rounded up to a multiple of `padToMultipleOf`, so all results have the same
   * frame count and each clip's `mask` marks where its own samples end. (For a single clip the
   * mask is all ones: the last window always starts before the real samples end.)
   */
  extractBatch(clips: readonly AudioSamples[]): AudioFeatures[] {
    if (clips.length === 0) {
      throw new InputError({ field: 'clips', value: [], expected: 'at least one clip' });
    }
    let longest = 0;
    clips.forEach((clip, index) => {
      this.requireNonEmpty(clip, `clips[${index}]`);
      longest = Math.max(longest, clip.length);
    });
    const paddedLength = this.paddedLength(longest);
    return clips.map((clip, index) => this.extractPadded(clip, paddedLength, `clips[${index}]`));
  }

  private requireNonEmpty(samples: AudioSamples, field: string): void {
    if (samples.length === 0) {
      throw new InputError({
        field,
        value: 'an empty array',
        expected: `at least one sample at ${this.options.samplingRate} Hz`,
      });
    }
  }

  /**
   * Samples kept: like transformers' `_truncate`, a maxLength that is not a multiple of
   * padToMultipleOf is first rounded up to one (480000 already is: 3750 × 128).
   */
  private keptLength(sampleCount: number): number {
    const { maxLength, padToMultipleOf } = this.options;
    return Math.min(sampleCount, Math.ceil(maxLength / padToMultipleOf) * padToMultipleOf);
  }

  /** Length after truncation and padding to a multiple of padToMultipleOf. */
  private paddedLength(sampleCount: number): number {
    const padToMultipleOf = this.options.padToMultipleOf;
    return Math.ceil(this.keptLength(sampleCount) / padToMultipleOf) * padToMultipleOf;
  }

  private extractPadded(samples: AudioSamples, paddedLength: number, field: string): AudioFeatures {
    const {
      frameLength,
      hopLength,
      featureSize,
      preemphasis,
      preemphasisHtkFlavor,
      melFloor,
      inputScaleFactor,
      perBinMean,
      perBinStddev,
    } = this.options;
    const sampleCount = this.keptLength(samples.length);
    const truncated = sampleCount < samples.length;
    // The reference pads and casts to float32 before framing; copying also frees the inner loop
    // from bounds checks against the real length.
    const padded = new Float32Array(paddedLength);
    // Scaling, like the rest of the framing, is a float32 product there.
    const scale = Math.fround(inputScaleFactor);
    for (let index = 0; index < sampleCount; index++) {
      const value = samples[index]!;
      if (!Number.isFinite(value)) {
        throw new InputError({ field: `${field}[${index}]`, value, expected: 'a finite number' });
      }
      padded[index] = scale === 1 ? value : Math.fround(value) * scale;
    }

    const frames = this.framesForPaddedLength(paddedLength);
    const features = new Float32Array(frames * featureSize);
    const mask = new Uint8Array(frames);
    const window = this.window;
    const frame = this.frameBuffer;
    const magnitudes = this.magnitudeBuffer;
    const fft = this.fft;
    const filterWeights = this.filterWeights;
    const weightStart = this.weightStart;
    const filterFirstBin = this.filterFirstBin;
    const logFloor = Math.log(melFloor);
    // The reference pre-emphasises in float32 too: p and 1 − p become float32 constants and
    // every product and difference is rounded. Mirroring it keeps us at its bit level.
    const fround = Math.fround;
    const coefficient = fround(preemphasis);
    const firstScale = fround(preemphasisHtkFlavor ? 1 - preemphasis : 0);

    for (let frameIndex = 0; frameIndex < frames; frameIndex++) {
      const start = frameIndex * hopLength;
      mask[frameIndex] = start < sampleCount ? 1 : 0;
      // Each window holds frameLength + 1 samples; pre-emphasis turns them into frameLength.
      if (preemphasis === 0) {
        for (let n = 0; n < frameLength; n++) frame[n] = padded[start + n]! * window[n]!;
      } else if (preemphasisHtkFlavor) {
        // [x0·(1 − p), x[1:L] − p·x[0:L−1]]: the (L+1)-th sample of the window is not used.
        frame[0] = fround(padded[start]! * firstScale) * window[0]!;
        for (let n = 1; n < frameLength; n++) {
          frame[n] = fround(padded[start + n]! - fround(coefficient * padded[start + n - 1]!)) * window[n]!;
        }
      } else {
        for (let n = 0; n < frameLength; n++) {
          frame[n] = fround(padded[start + n + 1]! - fround(coefficient * padded[start + n]!)) * window[n]!;
        }
      }
      fft.magnitudes(frame, magnitudes, frameLength);

      const output = frameIndex * featureSize;
      for (let filterIndex = 0; filterIndex < featureSize; filterIndex++) {
        const end = weightStart[filterIndex + 1]!;
        let bin = filterFirstBin[filterIndex]!;
        let energy = 0;
        for (let index = weightStart[filterIndex]!; index < end; index++, bin++) {
          energy += filterWeights[index]! * magnitudes[bin]!;
        }
        let value = energy > melFloor ? Math.log(energy) : logFloor;
        if (perBinMean !== undefined) value -= perBinMean[filterIndex]!;
        if (perBinStddev !== undefined) value /= perBinStddev[filterIndex]!;
        features[output + filterIndex] = value;
      }
    }
    return { features, frames, featureSize, mask, sampleCount, truncated };
  }
}

let defaultExtractor: AudioFeatureExtractor | undefined;

/**
 * Log-mel features of a 16 kHz mono clip, exactly as Gemma 3n's Python preprocessor computes
 * them (see {@link AudioFeatureExtractor.extract}). Without options a shared extractor with the
 * release configuration is reused; pass options, or hold an {@link AudioFeatureExtractor}, for
 * other configurations.
 */
export function extractFeatures(
  samples16k: AudioSamples,
  options?: Partial<FeatureOptions>,
): AudioFeatures {
  if (options === undefined || Object.keys(options).length === 0) {
    defaultExtractor ??= new AudioFeatureExtractor();
    return defaultExtractor.extract(samples16k);
  }
  return new AudioFeatureExtractor(options).extract(samples16k);
}
