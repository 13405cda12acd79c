/**
 * Our extractor beside transformers.js 4.3.2's Gemma3nAudioFeatureExtractor on the same audio.
 * The assertions encode the differences we document (README, "transformers.js"), so this test
 * fails if either implementation, or our understanding of it, changes.
 */
import { Gemma3nAudioFeatureExtractor } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { extractFeatures } from '../src/features/extract-features';
import { melFilterBankDense } from '../src/features/mel-filter-bank';
import { testSpeechLikeSignal } from './slow-log-mel';

/** The feature-extractor fields of google/gemma-3n-E2B-it's preprocessor_config.json. */
const releaseConfig = {
  feature_extractor_type: 'Gemma3nAudioFeatureExtractor',
  feature_size: 128,
  sampling_rate: 16_000,
  frame_length: 512,
  hop_length: 160,
  fft_length: 1024,
  min_frequency: 125.0,
  max_frequency: 7600.0,
  preemphasis: 0.97,
  preemphasis_htk_flavor: true,
  mel_floor: 1e-5,
  padding_value: 0.0,
  input_scale_factor: 1.0,
  dither: 0.0,
};

interface TransformersJsResult {
  frames: number;
  features: Float32Array;
  mask: boolean[];
}

async function transformersJs(samples: Float32Array): Promise<TransformersJsResult> {
  const extractor = new Gemma3nAudioFeatureExtractor(releaseConfig);
  const output = (await extractor(samples)) as {
    input_features: { dims: number[]; data: Float32Array };
    input_features_mask: { dims: number[]; data: ArrayLike<boolean | number> };
  };
  expect(output.input_features.dims[0]).toBe(1);
  expect(output.input_features.dims[2]).toBe(128);
  return {
    frames: output.input_features.dims[1]!,
    features: output.input_features.data,
    mask: Array.from(output.input_features_mask.data, Boolean),
  };
}

const padded = (length: number) => Math.ceil(Math.min(length, 480_000) / 128) * 128;

describe('transformers.js Gemma3nAudioFeatureExtractor vs ours (Python semantics)', () => {
  it.each([400, 1000, 1100, 5000, 16_000, 16_700, 48_000, 480_000, 500_000])(
    'frames a %i-sample clip with 512-sample windows: one extra frame exactly when (L − 512) is a multiple of 160',
    async (length) => {
      const samples = testSpeechLikeSignal(length, length);
      const ours = extractFeatures(samples);
      const theirs = await transformersJs(samples);
      const paddedLength = padded(length);
      expect(ours.frames).toBe(paddedLength < 513 ? 0 : Math.floor((paddedLength - 513) / 160) + 1);
      expect(theirs.frames).toBe(Math.floor((paddedLength - 512) / 160) + 1);
      expect(theirs.frames - ours.frames).toBe((paddedLength - 512) % 160 === 0 ? 1 : 0);

      // Their mask is all true and as long as their features; ours is all ones for one clip too.
      expect(theirs.mask).toHaveLength(theirs.frames);
      expect(theirs.mask.every(Boolean)).toBe(true);
      expect(ours.mask.every((value) => value === 1)).toBe(true);

      // On the frames both produce, the per-frame maths is the same (HTK pre-emphasis on 512
      // samples, periodic Hann, |rfft 1024|, the same HTK bank); transformers.js frames in
      // float64 where Python (and we) round frames to float32, which moves weak bins by ~1e-4.
      let largest = 0;
      for (let index = 0; index < ours.frames * 128; index++) {
        largest = Math.max(largest, Math.abs(ours.features[index]! - theirs.features[index]!));
      }
      expect(largest).toBeLessThan(5e-4);
    },
  );

  it('builds the same HTK filter bank (bins at linspace(0, 8000, 513), no norm)', () => {
    const theirs = new Gemma3nAudioFeatureExtractor(releaseConfig) as unknown as { mel_filters: number[][] };
    expect(theirs.mel_filters).toHaveLength(128);
    const ours = melFilterBankDense({
      binCount: 513,
      filterCount: 128,
      minFrequency: 125,
      maxFrequency: 7600,
      samplingRate: 16_000,
      fftLength: 1024,
    });
    let largest = 0;
    for (let filter = 0; filter < 128; filter++) {
      expect(theirs.mel_filters[filter]).toHaveLength(513);
      for (let bin = 0; bin < 513; bin++) {
        largest = Math.max(largest, Math.abs(theirs.mel_filters[filter]![bin]! - ours[bin * 128 + filter]!));
      }
    }
    expect(largest).toBeLessThan(1e-12);
  });

  it('gives 5 frames where Python gives 4 for 1100 samples (padded to 1152 = 512 + 4·160)', async () => {
    const samples = testSpeechLikeSignal(1100, 3);
    expect(extractFeatures(samples).frames).toBe(4);
    expect((await transformersJs(samples)).frames).toBe(5);
    // And 1 frame where Python gives none for a clip that pads to exactly 512 samples.
    expect(extractFeatures(samples.subarray(0, 400)).frames).toBe(0);
    expect((await transformersJs(samples.slice(0, 400))).frames).toBe(1);
  });

  it('differs on batches: transformers.js takes one clip at a time and never marks padding', async () => {
    // Python pads a batch to its longest clip and masks each clip's padding; transformers.js
    // has no batch padding, so a short clip there gives fewer frames instead of masked ones.
    const short = testSpeechLikeSignal(8000, 2);
    const theirs = await transformersJs(short);
    expect(theirs.frames).toBe(48);
    const { AudioFeatureExtractor } = await import('../src/features/extract-features');
    const [, oursInBatch] = new AudioFeatureExtractor().extractBatch([testSpeechLikeSignal(16_000, 1), short]);
    expect(oursInBatch!.frames).toBe(97);
    expect(oursInBatch!.mask.reduce((sum, value) => sum + value, 0)).toBe(50);
  });

  it('reports the measured difference on a 30 s clip', async () => {
    const samples = testSpeechLikeSignal(480_000, 30);
    const ours = extractFeatures(samples);
    const theirs = await transformersJs(samples);
    let largest = 0;
    let sum = 0;
    for (let index = 0; index < ours.features.length; index++) {
      const difference = Math.abs(ours.features[index]! - theirs.features[index]!);
      largest = Math.max(largest, difference);
      sum += difference;
    }
    const mean = sum / ours.features.length;
    process.stderr.write(
      `transformers.js vs ours, 30 s: frames ${theirs.frames} vs ${ours.frames}, ` +
        `max |Δ| ${largest.toExponential(2)}, mean |Δ| ${mean.toExponential(2)}\n`,
    );
    expect(theirs.frames).toBe(ours.frames);
    expect(largest).toBeLessThan(5e-4);
    expect(mean).toBeLessThan(1e-5);
  });
});
