// node scripts/compare-with-numpy.mjs   (after `npx tsup`; needs python3 with NumPy ≥ 2)
// Runs our extractor and scripts/numpy-reference.py on the same clips and prints the differences.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFeatures } from '@gemma3n/audio';

const script = fileURLToPath(new URL('./numpy-reference.py', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'gemma3n-audio-'));

function clip(length, quietFrom) {
  const samples = new Float32Array(length);
  let state = 30;
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const time = index / 16000;
    samples[index] =
      0.3 * Math.sin(2 * Math.PI * 220 * time) +
      0.15 * Math.sin(2 * Math.PI * 1875 * time) +
      0.1 * Math.sin(2 * Math.PI * (300 + 1500 * time) * time) +
      0.02 * (state / 2 ** 32 - 0.5);
    if (index >= quietFrom) samples[index] *= 1e-4; // a near-silent tail exercises weak bins
  }
  return samples;
}

for (const [label, samples] of [
  ['1 s', clip(16000, Infinity)],
  ['29.4 s, last 4.4 s at -80 dB', clip(470001, 400000)],
  ['35 s (truncated)', clip(560000, Infinity)],
]) {
  const ours = extractFeatures(samples);
  const input = join(folder, 'input.f32');
  writeFileSync(input, Buffer.from(samples.buffer));
  for (const precision of ['float32', 'float64']) {
    const output = join(folder, `output-${precision}.f32`);
    const run = spawnSync('python3', [script, input, output, precision], { stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
    const bytes = readFileSync(output);
    const reference = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    let largest = 0;
    let sum = 0;
    for (let index = 0; index < reference.length; index++) {
      const difference = Math.abs(reference[index] - ours.features[index]);
      largest = Math.max(largest, difference);
      sum += difference;
    }
    console.log(
      `${label.padEnd(30)} NumPy ${precision} FFT: frames ${reference.length / 128} vs ours ${ours.frames}, ` +
        `max |Δ| ${largest.toExponential(2)}, mean |Δ| ${(sum / reference.length).toExponential(2)}`,
    );
  }
}
