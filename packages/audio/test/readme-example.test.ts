/**
 * The README's example (examples/quick-start.mjs) with its printed values, on the TypeScript
 * sources: if this fails, the README's expected output is stale.
 */
import { describe, expect, it } from 'vitest';
import { extractFeatures, readWav, resample } from '../src/index';

/** The same in-memory WAV as the example: 2 s, 44.1 kHz, stereo, 16-bit, 440 Hz. */
function toneWav(seconds: number, sampleRate: number, frequency: number): Uint8Array {
  const frames = seconds * sampleRate;
  const bytes = new Uint8Array(44 + frames * 4);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, value: string) => [...value].forEach((char, index) => view.setUint8(offset + index, char.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, 36 + frames * 4, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 2, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 4, true);
  view.setUint16(32, 4, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, frames * 4, true);
  for (let n = 0; n < frames; n++) {
    const value = Math.round(16000 * Math.sin((2 * Math.PI * frequency * n) / sampleRate));
    view.setInt16(44 + n * 4, value, true);
    view.setInt16(46 + n * 4, value, true);
  }
  return bytes;
}

describe('README example', () => {
  it('prints what the README says', () => {
    const wav = readWav(toneWav(2, 44_100, 440));
    expect([wav.sampleRate, wav.channels, wav.bitsPerSample, wav.format, wav.samples.length]).toEqual([44_100, 2, 16, 'pcm', 88_200]);
    const samples16k = resample(wav.samples, wav.sampleRate, 16_000);
    expect(samples16k.length).toBe(32_000);
    const { features, frames, featureSize, mask, truncated } = extractFeatures(samples16k);
    expect([frames, featureSize, features.length, mask.every((valid) => valid === 1), truncated]).toEqual([197, 128, 25_216, true, false]);
    const frame = features.subarray(100 * featureSize, 101 * featureSize);
    const loudest = frame.indexOf(Math.max(...frame));
    expect([loudest, frame[loudest]!.toFixed(3), frame[0]!.toFixed(3)]).toEqual([17, '2.673', '-5.763']);
  });
});
