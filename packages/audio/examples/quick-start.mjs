// node examples/quick-start.mjs [file.wav]   (after `npx tsup`)
// Without an argument it builds a 2 s, 44.1 kHz stereo 16-bit WAV of a 440 Hz tone in memory.
import { readFileSync } from 'node:fs';
import { extractFeatures, readWav, resample } from '@gemma3n/audio';

function toneWav(seconds, sampleRate, frequency) {
  const frames = seconds * sampleRate;
  const bytes = new Uint8Array(44 + frames * 4);
  const view = new DataView(bytes.buffer);
  const text = (offset, value) => [...value].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, 'RIFF'); view.setUint32(4, 36 + frames * 4, true); text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 2, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, sampleRate * 4, true);
  view.setUint16(32, 4, true); view.setUint16(34, 16, true);
  text(36, 'data'); view.setUint32(40, frames * 4, true);
  for (let n = 0; n < frames; n++) {
    const value = Math.round(16000 * Math.sin((2 * Math.PI * frequency * n) / sampleRate));
    view.setInt16(44 + n * 4, value, true); // left
    view.setInt16(46 + n * 4, value, true); // right
  }
  return bytes;
}

const bytes = process.argv[2] ? readFileSync(process.argv[2]) : toneWav(2, 44_100, 440);
const wav = readWav(bytes);
console.log(wav.sampleRate, wav.channels, wav.bitsPerSample, wav.format, wav.samples.length);
const samples16k = resample(wav.samples, wav.sampleRate, 16_000);
console.log(samples16k.length);
const { features, frames, featureSize, mask, truncated } = extractFeatures(samples16k);
console.log(frames, featureSize, features.length, mask.every((valid) => valid === 1), truncated);
const frame = features.subarray(100 * featureSize, 101 * featureSize);
const loudest = frame.indexOf(Math.max(...frame));
console.log(loudest, frame[loudest].toFixed(3), frame[0].toFixed(3));
