import { describe, expect, it } from 'vitest';
import { averagePool, concatChannels, conv2dSame, featureMap, gelu, nearestResize, rmsNorm2d, samePadding } from './feature-map';

const ramp = (length: number, start = 1) => Float32Array.from({ length }, (_, index) => index + start);
const ones = (length: number) => new Float32Array(length).fill(1);

describe('samePadding (TF SAME)', () => {
  it('pads stride-1 odd kernels k//2 on both sides', () => {
    expect(samePadding(7, 3, 1)).toEqual([1, 1]);
    expect(samePadding(7, 5, 1)).toEqual([2, 2]);
  });
  it('pads stride-2 convs (⌈n/s⌉−1)·s + k − n in total, the odd pixel after', () => {
    expect(samePadding(5, 3, 2)).toEqual([1, 1]); // total (3−1)·2 + 3 − 5 = 2
    expect(samePadding(4, 3, 2)).toEqual([0, 1]); // total 1: PyTorch padding=1 would pad [1, 1]
    expect(samePadding(10, 5, 2)).toEqual([1, 2]); // total 3
    expect(samePadding(768, 3, 2)).toEqual([0, 1]); // the stem
    expect(samePadding(48, 3, 2)).toEqual([0, 1]); // stage-2 MQA key/value down_conv → 24
    expect(samePadding(6, 1, 2)).toEqual([0, 0]);
  });
});

describe('conv2dSame', () => {
  it('5×5 input, 3×3 ones kernel, stride 2: 3×3 output over pads [1, 1]', () => {
    const output = conv2dSame(featureMap(1, 5, 5, ramp(25)), ones(9), 1, 3, { stride: 2 });
    expect([output.height, output.width]).toEqual([3, 3]);
    // (0,0): rows 0–1 × cols 0–1 = 1+2+6+7; (0,1): rows 0–1 × cols 1–3; (1,1): rows 1–3 × cols 1–3.
    expect(Array.from(output.data)).toEqual([16, 33, 28, 69, 117, 87, 76, 123, 88]);
  });

  it('4×4 input, stride 2: pads only after (rows/cols 0–2, then 2–3)', () => {
    const output = conv2dSame(featureMap(1, 4, 4, ramp(16)), ones(9), 1, 3, { stride: 2 });
    // (0,0) = 1+2+3+5+6+7+9+10+11; (0,1) = 3+4+7+8+11+12; (1,0) = 9+10+11+13+14+15; (1,1) = 11+12+15+16.
    expect(Array.from(output.data)).toEqual([54, 45, 72, 54]);
  });

  it('depthwise: each channel with its own kernel, plus a bias', () => {
    const input = featureMap(2, 3, 3, Float32Array.from([...ramp(9), ...ramp(9, 10)]));
    const identity = [0, 0, 0, 0, 1, 0, 0, 0, 0];
    const kernels = Float32Array.from([...identity, ...ones(9)]);
    const output = conv2dSame(input, kernels, 2, 3, { groups: 2, bias: Float32Array.from([0.5, 0]) });
    expect(Array.from(output.data.subarray(0, 9))).toEqual(Array.from(ramp(9), (value) => value + 0.5));
    // Channel 1 holds 10..18; its centre sums all nine, its corner (0,0) sums 10+11+13+14.
    expect(output.data[9 + 4]).toBe(126);
    expect(output.data[9]).toBe(48);
  });

  it('dense 1×1: out channel o = Σ_c w[o, c]·x[c]', () => {
    const input = featureMap(2, 1, 2, Float32Array.from([1, 2, 10, 20]));
    const output = conv2dSame(input, Float32Array.from([1, 1, 2, -1]), 2, 1);
    expect(Array.from(output.data)).toEqual([11, 22, -8, -16]);
  });
});

describe('rmsNorm2d', () => {
  it('normalises over the channels at each pixel and scales per channel', () => {
    // Pixel 0: (3, 4), mean square 12.5; pixel 1: (1, −1), mean square 1. Weights (1, 2).
    const input = featureMap(2, 1, 2, Float32Array.from([3, 1, 4, -1]));
    const output = rmsNorm2d(input, Float32Array.from([1, 2]), 1e-6);
    const root0 = Math.sqrt(12.5 + 1e-6);
    const root1 = Math.sqrt(1 + 1e-6);
    expect(output.data[0]).toBeCloseTo(3 / root0, 6);
    expect(output.data[1]).toBeCloseTo(1 / root1, 6);
    expect(output.data[2]).toBeCloseTo((2 * 4) / root0, 6);
    expect(output.data[3]).toBeCloseTo(-2 / root1, 6);
  });
});

describe('gelu (tanh approximation)', () => {
  it('matches gelu_pytorch_tanh at ±1 and 2', () => {
    const output = gelu(featureMap(1, 1, 3, Float32Array.from([1, -1, 2])));
    expect(output.data[0]).toBeCloseTo(0.8411920, 6);
    expect(output.data[1]).toBeCloseTo(-0.1588080, 6);
    expect(output.data[2]).toBeCloseTo(1.9545977, 6);
  });
});

describe('nearestResize', () => {
  it('2× repeats every pixel', () => {
    const output = nearestResize(featureMap(1, 2, 2, Float32Array.from([1, 2, 3, 4])), 4, 4);
    expect(Array.from(output.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('2 → 3 reads ⌊d·2/3⌋ = 0, 0, 1 (PyTorch "nearest", not round-half)', () => {
    const output = nearestResize(featureMap(1, 1, 2, Float32Array.from([5, 7])), 1, 3);
    expect(Array.from(output.data)).toEqual([5, 5, 7]);
  });
});

describe('averagePool', () => {
  it('3×3 stride 3 on 6×6 = the mean of each block', () => {
    const output = averagePool(featureMap(1, 6, 6, ramp(36, 0)), 3);
    // Block (0,0) holds 0,1,2,6,7,8,12,13,14 (mean 7); each block right adds 3, each block down 18.
    expect(Array.from(output.data)).toEqual([7, 10, 25, 28]);
  });
});

describe('concatChannels', () => {
  it('stacks channels in order', () => {
    const output = concatChannels([featureMap(1, 1, 2, Float32Array.from([1, 2])), featureMap(2, 1, 2, Float32Array.from([3, 4, 5, 6]))]);
    expect(output.channels).toBe(3);
    expect(Array.from(output.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
