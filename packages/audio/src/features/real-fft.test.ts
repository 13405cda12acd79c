import { InputError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { RealFft } from './real-fft';

/** The DFT by its definition, in float64: X[k] = Σ x[n]·e^(−2πikn/N), k = 0 … N/2. */
function definitionDft(input: ArrayLike<number>, size: number): { real: number[]; imaginary: number[] } {
  const real: number[] = [];
  const imaginary: number[] = [];
  for (let k = 0; k <= size / 2; k++) {
    let sumReal = 0;
    let sumImaginary = 0;
    for (let n = 0; n < input.length; n++) {
      // Reduce k·n modulo N first so the angle stays small and exact.
      const angle = (2 * Math.PI * ((k * n) % size)) / size;
      sumReal += input[n]! * Math.cos(angle);
      sumImaginary -= input[n]! * Math.sin(angle);
    }
    real.push(sumReal);
    imaginary.push(sumImaginary);
  }
  return { real, imaginary };
}

/** Deterministic pseudo-random numbers in [−1, 1) (a 32-bit LCG), so failures are reproducible. */
function randomSignal(length: number, seed: number): Float64Array {
  const values = new Float64Array(length);
  let state = seed >>> 0;
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[index] = state / 2 ** 31 - 1;
  }
  return values;
}

describe('RealFft', () => {
  it.each([4, 8, 16, 64, 256, 1024])('matches the DFT definition for size %i', (size) => {
    const fft = new RealFft(size);
    const input = randomSignal(size, size);
    const real = new Float64Array(fft.binCount);
    const imaginary = new Float64Array(fft.binCount);
    fft.forward(input, real, imaginary);
    const expected = definitionDft(input, size);
    for (let k = 0; k < fft.binCount; k++) {
      expect(Math.abs(real[k]! - expected.real[k]!)).toBeLessThan(1e-10 * size);
      expect(Math.abs(imaginary[k]! - expected.imaginary[k]!)).toBeLessThan(1e-10 * size);
    }
  });

  it('zero-pads a shorter input (odd length too), like rfft(x, n)', () => {
    const fft = new RealFft(1024);
    for (const length of [512, 511, 1, 0]) {
      const input = randomSignal(length, 7 + length);
      const magnitudes = new Float64Array(fft.binCount);
      fft.magnitudes(input, magnitudes);
      const expected = definitionDft(input, 1024);
      for (let k = 0; k < fft.binCount; k++) {
        expect(magnitudes[k]!).toBeCloseTo(Math.hypot(expected.real[k]!, expected.imaginary[k]!), 9);
      }
    }
  });

  it('reuses its buffers: a second transform does not see the first', () => {
    const fft = new RealFft(16);
    const first = new Float64Array(17);
    fft.magnitudes(randomSignal(16, 1), first);
    const impulse = new Float64Array(16);
    impulse[0] = 1;
    const second = new Float64Array(9);
    fft.magnitudes(impulse, second);
    expect(Array.from(second)).toEqual(new Array(9).fill(1));
  });

  it('puts a cosine at an exact bin into that bin only', () => {
    const fft = new RealFft(64);
    const input = Float64Array.from({ length: 64 }, (_, n) => Math.cos((2 * Math.PI * 5 * n) / 64));
    const magnitudes = new Float64Array(fft.binCount);
    fft.magnitudes(input, magnitudes);
    for (let k = 0; k < fft.binCount; k++) expect(magnitudes[k]!).toBeCloseTo(k === 5 ? 32 : 0, 10);
  });

  it('rejects sizes that are not powers of two and inputs longer than the transform', () => {
    expect(() => new RealFft(1000)).toThrow(InputError);
    expect(() => new RealFft(1000)).toThrow('fftLength is 1000; expected a power of two between 4 and 2^30');
    expect(() => new RealFft(2)).toThrow(InputError);
    const fft = new RealFft(8);
    expect(() => fft.magnitudes(new Float64Array(9), new Float64Array(5))).toThrow(InputError);
  });
});
