import { InputError, UnsupportedError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import {
  release,
  slowLogMelFrame,
  slowMelEdges,
  slowMelWeight,
  slowPad,
  testSpeechLikeSignal,
} from '../../test/slow-log-mel';
import { AudioFeatureExtractor, extractFeatures } from './extract-features';
import { defaultFeatureOptions, featureOptionsFromPreprocessorConfig } from './feature-options';
import { melFilterBank, melFilterBankDense } from './mel-filter-bank';

const logFloor = Math.fround(Math.log(1e-5));
const bankParams = {
  binCount: 513,
  filterCount: 128,
  minFrequency: 125,
  maxFrequency: 7600,
  samplingRate: 16_000,
  fftLength: 1024,
};

describe('mel filter bank', () => {
  it('equals the HTK triangles computed filter by filter', () => {
    const edges = slowMelEdges();
    const dense = melFilterBankDense(bankParams);
    let largest = 0;
    for (let bin = 0; bin < 513; bin++) {
      for (let filter = 0; filter < 128; filter++) {
        largest = Math.max(largest, Math.abs(dense[bin * 128 + filter]! - slowMelWeight(edges, filter, bin)));
      }
    }
    expect(largest).toBeLessThan(1e-9);
  });

  it('has no area normalisation (peaks ≤ 1) and 946 non-zero weights, none outside 125–7600 Hz', () => {
    const filters = melFilterBank(bankParams);
    const nonZero = filters.reduce((sum, filter) => sum + filter.weights.length, 0);
    // 946 is also what NumPy gives for transformers' create_fb_matrix with these arguments.
    expect(nonZero).toBe(946);
    for (const filter of filters) {
      expect(filter.weights.length).toBeGreaterThan(0);
      expect(Math.max(...filter.weights)).toBeLessThanOrEqual(1);
      expect(filter.firstBin * 15.625).toBeGreaterThan(125);
      expect((filter.firstBin + filter.weights.length - 1) * 15.625).toBeLessThan(7600);
    }
    // 1000 Hz is FFT bin 64; it lies in filters 39 and 40 with weights 0.603 / 0.397.
    const dense = melFilterBankDense(bankParams);
    expect(dense[64 * 128 + 39]).toBeCloseTo(0.6028072468542696, 12);
    expect(dense[64 * 128 + 40]).toBeCloseTo(0.39719275, 7);
    expect(dense[64 * 128 + 38]).toBe(0);
  });
});

describe('extractFeatures', () => {
  it('matches a slow float64 implementation (DFT by definition, HTK triangles) frame by frame', () => {
    const samples = testSpeechLikeSignal(16_000);
    const result = extractFeatures(samples);
    expect(result.frames).toBe(97);
    expect(result.featureSize).toBe(128);
    expect(result.features.length).toBe(97 * 128);
    const padded = slowPad(samples);
    const edges = slowMelEdges();
    let largest = 0;
    let largestVersusFloat64 = 0;
    for (const frame of [0, 1, 48, 96]) {
      const expected = slowLogMelFrame(padded, frame, edges);
      const float64 = slowLogMelFrame(padded, frame, edges, 'float64');
      for (let bin = 0; bin < 128; bin++) {
        const value = result.features[frame * 128 + bin]!;
        largest = Math.max(largest, Math.abs(value - expected[bin]!));
        largestVersusFloat64 = Math.max(largestVersusFloat64, Math.abs(value - float64[bin]!));
      }
    }
    // Same float32 framing: only the float32 output (ulp ≈ 5e-7 at |x| ≈ 5) and FFT round-off differ.
    expect(largest).toBeLessThan(2e-6);
    // Float32 framing itself moves weak bins by up to ~1e-4 against an all-float64 computation.
    expect(largestVersusFloat64).toBeGreaterThan(2e-6);
    expect(largestVersusFloat64).toBeLessThan(5e-4);
  });

  it('pads the last window with zeros (a 1000-sample clip, padded to 1024)', () => {
    const samples = testSpeechLikeSignal(1000, 9);
    const result = extractFeatures(samples);
    expect(result.frames).toBe(4);
    const padded = slowPad(samples);
    expect(padded.length).toBe(1024);
    const expected = slowLogMelFrame(padded, 3, slowMelEdges());
    for (let bin = 0; bin < 128; bin++) expect(result.features[3 * 128 + bin]).toBeCloseTo(expected[bin]!, 6);
  });

  it('gives log(1e-5) everywhere for silence, with every frame valid', () => {
    const result = extractFeatures(new Float32Array(16_000));
    expect(result.frames).toBe(97);
    expect(result.features.every((value) => value === logFloor)).toBe(true);
    expect(result.mask.every((value) => value === 1)).toBe(true);
  });

  it("puts a pure 1 kHz sine's energy in the mel bin whose filter weighs 1 kHz most (39)", () => {
    const samples = Float32Array.from({ length: 8000 }, (_, n) => 0.5 * Math.sin((2 * Math.PI * 1000 * n) / 16_000));
    const result = extractFeatures(samples);
    const frame = 20;
    const row = result.features.subarray(frame * 128, frame * 128 + 128);
    const loudest = row.indexOf(Math.max(...row));
    expect(loudest).toBe(39);
    // Far from the tone only the Hann side lobes leak: at least 7 nats (≈ 60 dB) lower.
    for (let bin = 0; bin < 128; bin++) {
      if (Math.abs(bin - 39) > 12) expect(row[bin]!).toBeLessThan(row[39]! - 7);
    }
  });

  it.each([250, 500, 2000, 3500, 6000, 7000])(
    'puts a %i Hz sine in the mel filter that weighs its frequency most (HTK formula)',
    (frequency) => {
      const edges = slowMelEdges();
      const bin = frequency / 15.625; // every test frequency sits on an FFT bin
      const weights = Array.from({ length: 128 }, (_, filter) => slowMelWeight(edges, filter, bin));
      const expected = weights.indexOf(Math.max(...weights));
      // Only frequencies well inside one filter make a fair test (no near-tie with a neighbour).
      expect(weights[expected]!).toBeGreaterThan(0.6);
      const samples = Float32Array.from({ length: 8000 }, (_, n) => 0.5 * Math.sin((2 * Math.PI * frequency * n) / 16_000));
      const row = extractFeatures(samples).features.subarray(20 * 128, 21 * 128);
      expect(row.indexOf(Math.max(...row))).toBe(expected);
    },
  );

  it.each([
    // [input length, padded length, frames]
    [1, 128, 0],
    [384, 384, 0],
    [385, 512, 0],
    [513, 640, 1],
    [1000, 1024, 4],
    [5000, 5120, 29],
    [16_000, 16_000, 97],
    [480_000, 480_000, 2997],
  ])('frames a %i-sample clip (padded to %i) into %i frames, all valid', (length, padded, frames) => {
    expect(frames).toBe(padded < 513 ? 0 : Math.floor((padded - 513) / 160) + 1);
    const result = extractFeatures(testSpeechLikeSignal(length));
    expect(result.frames).toBe(frames);
    expect(result.features.length).toBe(frames * 128);
    expect(result.mask.length).toBe(frames);
    expect(result.mask.every((value) => value === 1)).toBe(true);
    expect(result.sampleCount).toBe(length);
    expect(result.truncated).toBe(false);
  });

  it('truncates audio over 30 s before padding and says so', () => {
    const long = testSpeechLikeSignal(480_001);
    long[480_000] = 0.9;
    const result = extractFeatures(long);
    expect(result.truncated).toBe(true);
    expect(result.sampleCount).toBe(480_000);
    expect(result.frames).toBe(2997);
    const exact = extractFeatures(long.subarray(0, 480_000));
    expect(result.features).toEqual(exact.features);
    // A minute of audio still gives 2997 frames.
    expect(extractFeatures(new Float32Array(960_000)).frames).toBe(2997);
  });

  it('rounds a maxLength that is not a multiple of 128 up to one before truncating, as transformers does', () => {
    const result = extractFeatures(testSpeechLikeSignal(5000), { maxLength: 1000 });
    expect(result.sampleCount).toBe(1024);
    expect(result.truncated).toBe(true);
    expect(result.frames).toBe(4);
    expect(extractFeatures(testSpeechLikeSignal(1024), { maxLength: 1000 }).truncated).toBe(false);
  });

  it('pads a batch to its longest clip; the mask marks where each clip ends', () => {
    const extractor = new AudioFeatureExtractor();
    const [long, short] = extractor.extractBatch([testSpeechLikeSignal(16_000, 1), testSpeechLikeSignal(8000, 2)]);
    expect(long!.frames).toBe(97);
    expect(short!.frames).toBe(97);
    // Frame f is valid iff sample 160·f < 8000, so frames 0 … 49 even though frame 47's window
    // (samples 7520 … 8032) already reaches into the padding.
    expect(Array.from(short!.mask).indexOf(0)).toBe(50);
    expect(short!.mask.subarray(50).every((value) => value === 0)).toBe(true);
    expect(long!.mask.every((value) => value === 1)).toBe(true);
    const alone = extractor.extract(testSpeechLikeSignal(8000, 2));
    expect(alone.frames).toBe(48);
    expect(short!.features.subarray(0, 48 * 128)).toEqual(alone.features);
    expect(short!.features.subarray(60 * 128).every((value) => value === logFloor)).toBe(true);
  });

  it('rejects empty input and non-finite samples with errors naming them', () => {
    expect(() => extractFeatures(new Float32Array(0))).toThrow(InputError);
    expect(() => extractFeatures([])).toThrow('samples is "an empty array"; expected at least one sample at 16000 Hz');
    const broken = new Float32Array(1000);
    broken[321] = Number.NaN;
    expect(() => extractFeatures(broken)).toThrow('samples[321] is NaN; expected a finite number');
    expect(() => new AudioFeatureExtractor().extractBatch([new Float32Array(10), []])).toThrow('clips[1]');
  });

  it('accepts other configurations and validates them', () => {
    const result = extractFeatures(testSpeechLikeSignal(16_000), { featureSize: 80, maxFrequency: 8000 });
    expect(result.featureSize).toBe(80);
    expect(result.features.length).toBe(97 * 80);
    expect(() => extractFeatures([0.1], { hopLength: 0 })).toThrow('options.hopLength is 0; expected an integer ≥ 1');
    expect(() => extractFeatures([0.1], { fftLength: 500 })).toThrow('options.fftLength is 500');
    expect(() => extractFeatures([0.1], { maxFrequency: 9000 })).toThrow('Nyquist frequency 8000 Hz');
    const normalised = extractFeatures(new Float32Array(1000), {
      perBinMean: new Array(128).fill(1),
      perBinStddev: new Array(128).fill(2),
    });
    expect(normalised.features[0]).toBeCloseTo((Math.log(1e-5) - 1) / 2, 6);
    // Scaling the input by 2 scales every magnitude by 2: log-mel + ln 2 wherever above the floor.
    const signal = testSpeechLikeSignal(16_000);
    const plain = extractFeatures(signal);
    const doubled = extractFeatures(signal, { inputScaleFactor: 2 });
    for (const index of [0, 500, 5000, 12_000]) {
      expect(doubled.features[index]! - plain.features[index]!).toBeCloseTo(Math.log(2), 4);
    }
  });

  it('reads the release preprocessor_config.json fields', () => {
    const config = {
      feature_extractor_type: 'Gemma3nAudioFeatureExtractor',
      feature_size: 128,
      sampling_rate: 16000,
      frame_length: 512,
      hop_length: 160,
      fft_length: 1024,
      min_frequency: 125.0,
      max_frequency: 7600.0,
      preemphasis: 0.97,
      preemphasis_htk_flavor: true,
      mel_floor: 1e-5,
      input_scale_factor: 1.0,
      dither: 0.0,
      padding_value: 0.0,
      per_bin_mean: null,
      per_bin_stddev: null,
    };
    const options = featureOptionsFromPreprocessorConfig(config);
    for (const [key, value] of Object.entries(options)) {
      expect(value).toEqual(defaultFeatureOptions[key as keyof typeof defaultFeatureOptions]);
    }
    expect(Object.keys(options)).toHaveLength(11);
    expect(() => featureOptionsFromPreprocessorConfig({ ...config, dither: 1e-4 })).toThrow(UnsupportedError);
    expect(() => featureOptionsFromPreprocessorConfig({ ...config, hop_length: '160' })).toThrow(
      'preprocessor_config.hop_length is "160"; expected a number',
    );
  });

  it('uses the release constants in the slow reference too', () => {
    expect(release.frameLength + 1).toBe(513);
    expect(new AudioFeatureExtractor().frameCount(480_001)).toBe(2997);
  });
});
