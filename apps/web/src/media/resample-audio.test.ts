import { describe, expect, it } from 'vitest';
import { mixToMono, resampleAudio } from './resample-audio';

function sine(frequency: number, rate: number, seconds: number, amplitude = 1): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, index) => amplitude * Math.sin((2 * Math.PI * frequency * index) / rate));
}

/** Amplitude of `frequency` in `samples` (correlation with a sine and a cosine), edges skipped. */
function amplitudeAt(samples: Float32Array, frequency: number, rate: number, skip: number): number {
  let sine = 0;
  let cosine = 0;
  const count = samples.length - 2 * skip;
  for (let index = skip; index < samples.length - skip; index += 1) {
    const phase = (2 * Math.PI * frequency * index) / rate;
    sine += (samples[index] as number) * Math.sin(phase);
    cosine += (samples[index] as number) * Math.cos(phase);
  }
  return (2 * Math.hypot(sine, cosine)) / count;
}

describe('resampleAudio', () => {
  it('keeps a 1 kHz tone at its amplitude and frequency from 48 kHz to 16 kHz', () => {
    const output = resampleAudio(sine(1000, 48_000, 0.5, 0.8), 48_000);
    expect(output.length).toBe(8000);
    expect(amplitudeAt(output, 1000, 16_000, 200)).toBeCloseTo(0.8, 2);
    // The same samples as a 16 kHz sine, sample for sample, away from the edges.
    const expected = sine(1000, 16_000, 0.5, 0.8);
    let worst = 0;
    for (let index = 200; index < 7800; index += 1) worst = Math.max(worst, Math.abs((output[index] as number) - (expected[index] as number)));
    expect(worst).toBeLessThan(0.01);
  });

  it('removes a 12 kHz tone (above the 8 kHz Nyquist) instead of aliasing it to 4 kHz', () => {
    const output = resampleAudio(sine(12_000, 48_000, 0.5), 48_000);
    // Decimating by 3 without a low-pass would put it at 16 − 12 = 4 kHz at full amplitude.
    expect(amplitudeAt(output, 4000, 16_000, 200)).toBeLessThan(0.02);
  });

  it('upsamples 8 kHz to 16 kHz and returns a copy at equal rates', () => {
    const input = sine(440, 8000, 0.25);
    const output = resampleAudio(input, 8000);
    expect(output.length).toBe(4000);
    expect(amplitudeAt(output, 440, 16_000, 200)).toBeCloseTo(1, 2);
    const same = resampleAudio(input, 16_000, 16_000);
    expect(same).toEqual(input);
    expect(same).not.toBe(input);
  });

  it('mixes channels by averaging', () => {
    expect(Array.from(mixToMono([Float32Array.from([1, 0.5]), Float32Array.from([0, -0.5])]))).toEqual([0.5, 0]);
  });
});
