import { describe, expect, it } from 'vitest';
import { audioQueryScale, isKeyInAudioContext, relativePositionTimingSignal, softplus } from './audio-attention';
import { audioEncoderDimensions, audioEncoderTokenCount } from './audio-encoder-dimensions';
import { tinyAudioConfig } from './audio-test-support';
import { causalDepthwiseConv1d, glu } from './conformer-block';
import { cumulativeGroupNorm, flattenFrequencyMajor, subsampleConv2d } from './subsample-conv-projection';

// Golden values worked out by hand from the formulas of §4.2 and HF's code.

describe('cumulativeGroupNorm', () => {
  // 2 channels × 3 frames × 1 bin: channel 0 = [1, 2, 0], channel 1 = [3, 6, 0], w = [2, −1], eps 0.
  // t0: μ = 2, Σ(x−μ)² = 1 + 1 = 2, n = 2 → σ² = 1.
  // t1: μ = 12/4 = 3, frame-1 deviations from μ₁: 1 + 9 = 10, σ² = (2 + 10)/4 = 3
  //     (the variance of [1, 3, 2, 6] about their common mean would be 3.5).
  // t2: μ = 12/6 = 2, frame-2 deviations: 4 + 4 = 8, σ² = (2 + 10 + 8)/6 = 10/3.
  const map = { channels: 2, frames: 3, frequencies: 1, values: Float32Array.from([1, 2, 0, 3, 6, 0]) };
  it('takes each earlier frame\'s deviation from its own running mean', () => {
    const result = cumulativeGroupNorm(map, Float32Array.from([2, -1]), 0).values;
    const expected = [
      (1 - 2) * 2, ((2 - 3) / Math.sqrt(3)) * 2, ((0 - 2) / Math.sqrt(10 / 3)) * 2,
      (3 - 2) * -1, ((6 - 3) / Math.sqrt(3)) * -1, ((0 - 2) / Math.sqrt(10 / 3)) * -1,
    ];
    expected.forEach((value, index) => expect(result[index]).toBeCloseTo(value, 6));
    expect(result[1]).not.toBeCloseTo(((2 - 3) / Math.sqrt(3.5)) * 2, 3);
  });
  it('adds epsilon inside the root', () => {
    const result = cumulativeGroupNorm(map, Float32Array.from([1, 1]), 1).values;
    expect(result[0]).toBeCloseTo(-1 / Math.sqrt(2), 6);
  });
});

describe('subsampleConv2d and the flatten', () => {
  it('pads time (0, 2) and frequency (1, 1), stride 2, kernel index [out, in, t, f]', () => {
    // x = [[1, 2], [3, 4], [5, 6]] (frames × bins), w[kt][kf] = 3·kt + kf + 1.
    // out[0] = Σ w[kt][kf]·x[kt][kf − 1] = 2·1 + 3·2 + 5·3 + 6·4 + 8·5 + 9·6 = 141;
    // out[1] reads frame 2 only (frames 3, 4 are bottom padding): 2·5 + 3·6 = 28.
    const input = { channels: 1, frames: 3, frequencies: 2, values: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const weight = Float32Array.from({ length: 9 }, (_, index) => index + 1);
    const output = subsampleConv2d(input, weight, 1, [3, 3], [2, 2]);
    expect([output.frames, output.frequencies]).toEqual([2, 1]);
    expect(Array.from(output.values)).toEqual([141, 28]);
  });
  it('flattens [C, T, F] to [T, F·C + c]', () => {
    const map = { channels: 2, frames: 1, frequencies: 2, values: Float32Array.from([1, 2, 3, 4]) };
    expect(Array.from(flattenFrequencyMajor(map))).toEqual([1, 3, 2, 4]);
  });
});

describe('light-conv pieces', () => {
  it('causal depthwise conv: y[t] = Σ_j w[j]·x[t − K + 1 + j], zeros before frame 0', () => {
    const output = causalDepthwiseConv1d(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 10, 100]), 4, 1, 3);
    expect(Array.from(output)).toEqual([100, 210, 321, 432]);
  });
  it('keeps channels apart in the depthwise conv', () => {
    // Two channels, K 2: channel 0 weights [1, 2], channel 1 weights [3, 4]; x = [[1, 10], [2, 20]].
    const output = causalDepthwiseConv1d(Float32Array.from([1, 10, 2, 20]), Float32Array.from([1, 2, 3, 4]), 2, 2, 2);
    expect(Array.from(output)).toEqual([2, 40, 1 + 4, 30 + 80]);
  });
  it('GLU gates the first half with the sigmoid of the second', () => {
    // [a, a', b, b'] = [2, −3, 0, ln 3]: 2·σ(0) = 1, −3·σ(ln 3) = −3·3/4.
    expect(Array.from(glu(Float32Array.from([2, -3, 0, Math.log(3)]), 1, 2))).toEqual([1, -2.25].map(Math.fround));
  });
});

describe('attention pieces', () => {
  it('relative position timing signal: sin then cos of d·inv_i, inv = exp(−i·ln 1e4 / (C/2 − 1))', () => {
    // 4 channels: two timescales, inv = [1, 1e−4].
    const signal = Array.from(relativePositionTimingSignal(2, 4));
    [Math.sin(2), Math.sin(2e-4), Math.cos(2), Math.cos(2e-4)].forEach((value, index) => expect(signal[index]).toBeCloseTo(value, 12));
    expect(Array.from(relativePositionTimingSignal(0, 4))).toEqual([0, 0, 1, 1]);
  });
  it('query scale: head_dim^-0.5 / softplus(0) · softplus(per_dim_scale)', () => {
    expect(softplus(0)).toBeCloseTo(Math.LN2, 14);
    const scale = audioQueryScale(Float32Array.from([0, 1]), 192);
    expect(scale[0]).toBeCloseTo(192 ** -0.5, 12);
    expect(scale[1]).toBeCloseTo((192 ** -0.5 / Math.LN2) * Math.log(1 + Math.E), 12);
  });
  it('chunk 12, left 13, right 0: query q sees keys q − 12 … q, the same set HF\'s block mask allows', () => {
    const dimensions = audioEncoderDimensions(tinyAudioConfig());
    expect([dimensions.chunkSize, dimensions.maxPastHorizon, dimensions.maxFutureHorizon]).toEqual([12, 12, 0]);
    expect([8, 19, 20].map((key) => isKeyInAudioContext(dimensions, 20, key))).toEqual([true, true, true]);
    expect([7, 21, 32].map((key) => isKeyInAudioContext(dimensions, 20, key))).toEqual([false, false, false]);
    // HF: block u = ⌊q/W⌋, slot c of the context = key u·W − L + c, allowed iff w ≤ c ≤ w + L + R
    // with w = q mod W, C = W + L + R slots.
    const W = 12, L = 12, R = 0;
    const hfAllows = (query: number, key: number) => {
      const block = Math.floor(query / W), w = query % W, slot = key - block * W + L;
      return slot >= 0 && slot < W + L + R && slot >= w && slot <= w + L + R;
    };
    for (let query = 0; query < 40; query++) {
      for (let key = 0; key < 40; key++) expect(isKeyInAudioContext(dimensions, query, key)).toBe(hfAllows(query, key));
    }
  });
  it('reads right context from the config', () => {
    const dimensions = audioEncoderDimensions(tinyAudioConfig({ conf_attention_context_left: 3, conf_attention_context_right: 2 }));
    expect([4, 5, 6, 7, 8].map((key) => isKeyInAudioContext(dimensions, 6, key))).toEqual([true, true, true, true, true]);
    expect([3, 9].map((key) => isKeyInAudioContext(dimensions, 6, key))).toEqual([false, false]);
  });
});

describe('token counts', () => {
  it('30 s of features (2997 frames) gives 188 tokens; 3009 frames is the first to give 189', () => {
    const config = tinyAudioConfig();
    expect(audioEncoderTokenCount(config, 2997)).toBe(188); // 2997 → 1499 → 750 → 188
    expect(audioEncoderTokenCount(config, 3008)).toBe(188); // → 1504 → 752 → 188
    expect(audioEncoderTokenCount(config, 3009)).toBe(189); // → 1505 → 753 → 189
    expect(audioEncoderTokenCount(config, 37)).toBe(3); // → 19 → 10 → 3
  });
});
