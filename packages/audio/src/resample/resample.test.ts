import { InputError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { resample, resampleQuality } from './resample';

function sine(frequency: number, rate: number, length: number, amplitude = 0.5): Float64Array {
  return Float64Array.from({ length }, (_, n) => amplitude * Math.sin((2 * Math.PI * frequency * n) / rate));
}

/** Samples far enough from the ends that the kernel (≤ 700 taps here) sees no edge. */
function middle(signal: Float32Array): Float32Array {
  const margin = 1000;
  return signal.subarray(margin, signal.length - margin);
}

/**
 * Amplitude of the `frequency` component by least squares on sin and cos (the exact frequency
 * is known, so this is the amplitude the resampler kept, independent of phase).
 */
function toneAmplitude(signal: Float32Array, frequency: number, rate: number, offset: number): number {
  // Normal equations of signal ≈ a·sin + b·cos.
  let sinSquares = 0;
  let cosSquares = 0;
  let sinCos = 0;
  let signalSin = 0;
  let signalCos = 0;
  for (let index = 0; index < signal.length; index++) {
    const angle = (2 * Math.PI * frequency * (index + offset)) / rate;
    const sinValue = Math.sin(angle);
    const cosValue = Math.cos(angle);
    sinSquares += sinValue * sinValue;
    cosSquares += cosValue * cosValue;
    sinCos += sinValue * cosValue;
    signalSin += signal[index]! * sinValue;
    signalCos += signal[index]! * cosValue;
  }
  const determinant = sinSquares * cosSquares - sinCos * sinCos;
  const sineWeight = (signalSin * cosSquares - signalCos * sinCos) / determinant;
  const cosineWeight = (signalCos * sinSquares - signalSin * sinCos) / determinant;
  return Math.hypot(sineWeight, cosineWeight);
}

function rms(signal: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < signal.length; index++) sum += signal[index]! ** 2;
  return Math.sqrt(sum / signal.length);
}

const decibels = (ratio: number) => 20 * Math.log10(ratio);

describe('resample', () => {
  it.each([
    [44_100, 16_000],
    [48_000, 16_000],
    [22_050, 16_000],
    [8000, 16_000],
    [11_025, 16_000],
    [16_000, 44_100],
  ])('keeps passband sines within the stated ripple, %i → %i Hz', (fromRate, toRate) => {
    const lowerNyquist = Math.min(fromRate, toRate) / 2;
    let worst = 0;
    // 48 frequencies across the passband, denser towards its end where the ripple is largest.
    const fractions = Array.from({ length: 48 }, (_, index) => resampleQuality.passbandEnd * Math.sin(((index + 1) / 48) * (Math.PI / 2)));
    for (const fraction of fractions) {
      const frequency = fraction * lowerNyquist;
      const input = sine(frequency, fromRate, Math.round(fromRate / 2));
      const output = resample(input, fromRate, toRate);
      const amplitude = toneAmplitude(middle(output), frequency, toRate, 1000);
      worst = Math.max(worst, Math.abs(decibels(amplitude / 0.5)));
    }
    expect(worst).toBeLessThan(resampleQuality.passbandRippleDb);
  });

  it.each([
    [44_100, 16_000],
    [48_000, 16_000],
    [22_050, 16_000],
    [96_000, 16_000],
  ])('attenuates sines above the new Nyquist by ≥ 80 dB, %i → %i Hz', (fromRate, toRate) => {
    const nyquist = toRate / 2;
    let weakest = Infinity;
    // Densely just above the Nyquist frequency (the stopband edge, where the first side lobe
    // is), then coarsely up to the input's own Nyquist frequency.
    const near = Array.from({ length: 30 }, (_, index) => nyquist * (1 + index * 0.003));
    const far = Array.from({ length: 10 }, (_, index) => nyquist + ((fromRate / 2 - nyquist) * (index + 1)) / 11);
    for (const frequency of [...near, ...far]) {
      if (frequency >= fromRate / 2) continue;
      const output = resample(sine(frequency, fromRate, fromRate / 2), fromRate, toRate);
      // Whatever is left is aliasing: compare its RMS with the input sine's (0.5/√2).
      weakest = Math.min(weakest, -decibels(rms(middle(output)) / (0.5 / Math.SQRT2)));
    }
    expect(weakest).toBeGreaterThanOrEqual(resampleQuality.stopbandAttenuationDb);
  });

  it('suppresses the images when upsampling 8 kHz → 16 kHz by ≥ 80 dB', () => {
    for (const frequency of [1000, 3000, 3800]) {
      const output = middle(resample(sine(frequency, 8000, 8000), 8000, 16_000));
      const kept = toneAmplitude(output, frequency, 16_000, 1000);
      // Remove the tone itself; the rest is the image at 8000 − f and round-off.
      const residual = Float64Array.from(output, (value, index) => {
        const angle = (2 * Math.PI * frequency * (index + 1000)) / 16_000;
        return value - 0.5 * Math.sin(angle);
      });
      expect(Math.abs(decibels(kept / 0.5))).toBeLessThan(resampleQuality.passbandRippleDb);
      expect(-decibels(rms(residual) / (0.5 / Math.SQRT2))).toBeGreaterThanOrEqual(80);
    }
  });

  it.each([
    [44_100, 16_000, 44_100, 16_000],
    [44_100, 16_000, 12_345, 4479],
    [48_000, 16_000, 1001, 334],
    [8000, 16_000, 777, 1554],
    [22_050, 16_000, 3, 2],
    [16_000, 16_000, 5, 5],
    [44_100.5, 16_000, 1000, 363],
    [16_001, 16_000, 16_001, 16_000],
  ])('gives round(n·to/from) samples: %i → %i Hz, %i → %i', (fromRate, toRate, length, expected) => {
    expect(expected).toBe(Math.round((length * toRate) / fromRate));
    expect(resample(new Float32Array(length), fromRate, toRate).length).toBe(expected);
  });

  it('keeps a constant signal constant away from the ends, and maps sample times exactly', () => {
    const output = resample(new Float32Array(4410).fill(0.25), 44_100, 16_000);
    for (const value of output.subarray(300, output.length - 300)) expect(value).toBeCloseTo(0.25, 6);
    // 48 k → 16 k keeps every third sample's time: a slow ramp comes out as the same ramp.
    const ramp = Float64Array.from({ length: 4800 }, (_, n) => Math.sin((2 * Math.PI * 50 * n) / 48_000));
    const decimated = resample(ramp, 48_000, 16_000);
    for (let index = 400; index < 1200; index++) expect(decimated[index]).toBeCloseTo(ramp[3 * index]!, 4);
  });

  it('handles ratios without a small rational form (interpolated kernel) to the same standard', () => {
    const frequency = 3000;
    const output = resample(sine(frequency, 44_100.5, 44_100), 44_100.5, 16_000);
    expect(Math.abs(decibels(toneAmplitude(middle(output), frequency, 16_000, 1000) / 0.5))).toBeLessThan(resampleQuality.passbandRippleDb);
    const alias = resample(sine(12_000, 16_001, 16_001), 16_001, 8000);
    expect(-decibels(rms(middle(alias)) / (0.5 / Math.SQRT2))).toBeGreaterThanOrEqual(80);
  });

  it('returns a copy for equal rates and an empty array for empty input', () => {
    const input = Float32Array.from([0.1, 0.2]);
    const same = resample(input, 16_000, 16_000);
    expect(same).toEqual(input);
    expect(same).not.toBe(input);
    expect(resample([], 44_100, 16_000).length).toBe(0);
  });

  it('rejects bad rates and options', () => {
    expect(() => resample([0], 0, 16_000)).toThrow(InputError);
    expect(() => resample([0], 44_100, Number.NaN)).toThrow('toRate is NaN; expected a positive, finite sample rate in Hz');
    expect(() => resample([0], 44_100, 16_000, { passbandEnd: 1 })).toThrow('options.passbandEnd is 1');
  });
});
