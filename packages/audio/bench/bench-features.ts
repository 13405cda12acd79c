/**
 * `pnpm bench:audio`: log-mel features of a 30 s clip, ours beside transformers.js 4.3.2's
 * Gemma3nAudioFeatureExtractor, on one core. Also times readWav + resample for the same 30 s
 * recorded at 44.1 kHz, the usual path from a file to the extractor.
 *
 * One core: the process re-runs itself under `taskset -c 0` when taskset exists (Linux), so
 * ONNX Runtime's threads behind transformers.js's matmul share the core ours runs on.
 */
import { spawnSync } from 'node:child_process';
import { Gemma3nAudioFeatureExtractor } from '@huggingface/transformers';
import { AudioFeatureExtractor } from '../src/features/extract-features';
import { resample } from '../src/resample/resample';
import { readWav } from '../src/wav/read-wav';

if (process.env['GEMMA3N_BENCH_PINNED'] === undefined && process.platform === 'linux') {
  const pinned = spawnSync('taskset', ['-c', '0', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, GEMMA3N_BENCH_PINNED: 'taskset -c 0' },
  });
  if (pinned.error === undefined) process.exit(pinned.status ?? 1);
  // No taskset: fall through and run unpinned, saying so below.
}

const seconds = 30;
const rate = 16_000;

function speechLikeSignal(length: number, sampleRate: number): Float32Array {
  const samples = new Float32Array(length);
  let state = 12345;
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const time = index / sampleRate;
    samples[index] =
      0.3 * Math.sin(2 * Math.PI * 220 * time) +
      0.1 * Math.sin(2 * Math.PI * (300 + 100 * time) * time) +
      0.02 * (state / 2 ** 32 - 0.5);
  }
  return samples;
}

/** 16-bit mono WAV bytes, so the bench reads a real file layout. */
function wavBytes(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, value: string) => [...value].forEach((char, index) => view.setUint8(offset + index, char.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((value, index) => view.setInt16(44 + index * 2, Math.round(value * 32767), true));
  return bytes;
}

interface Timing {
  median: number;
  min: number;
}

function summarise(label: string, times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const min = sorted[0]!;
  console.log(
    `${label.padEnd(46)} median ${median.toFixed(1).padStart(7)} ms  min ${min.toFixed(1).padStart(7)} ms  ` +
      `${((seconds * 1000) / median).toFixed(0).padStart(5)}× real time (median)  ${times.length} runs`,
  );
  return { median, min };
}

async function timeOne(task: () => unknown): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

async function time(label: string, warmups: number, runs: number, task: () => unknown): Promise<Timing> {
  for (let run = 0; run < warmups; run++) await task();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) times.push(await timeOne(task));
  return summarise(label, times);
}

/**
 * Runs two tasks alternately, so a load change on a shared machine hits both alike and the
 * ratio stays meaningful even when the absolute times move.
 */
async function timeInterleaved(
  labels: [string, string],
  runs: number,
  tasks: [() => unknown, () => unknown],
): Promise<[Timing, Timing]> {
  for (let run = 0; run < 3; run++) for (const task of tasks) await task();
  const first: number[] = [];
  const second: number[] = [];
  for (let run = 0; run < runs; run++) {
    first.push(await timeOne(tasks[0]));
    second.push(await timeOne(tasks[1]));
  }
  return [summarise(labels[0], first), summarise(labels[1], second)];
}

const clip = speechLikeSignal(seconds * rate, rate);
const ours = new AudioFeatureExtractor();
const theirs = new Gemma3nAudioFeatureExtractor({
  feature_size: 128,
  sampling_rate: 16_000,
  frame_length: 512,
  hop_length: 160,
  fft_length: 1024,
  min_frequency: 125,
  max_frequency: 7600,
  preemphasis: 0.97,
  preemphasis_htk_flavor: true,
  mel_floor: 1e-5,
  padding_value: 0,
});

console.log(`Node ${process.version}, ${process.env['GEMMA3N_BENCH_PINNED'] ?? 'not pinned (no taskset)'}`);
console.log(`log-mel features of a ${seconds} s clip at 16 kHz (${clip.length} samples):`);
const [oursTiming, theirsTiming] = await timeInterleaved(
  ['@gemma3n/audio AudioFeatureExtractor.extract', 'transformers.js Gemma3nAudioFeatureExtractor'],
  20,
  [() => ours.extract(clip), () => theirs(clip)],
);
const oursMs = oursTiming.median;
const oursFrames = ours.extract(clip).frames;
const theirsFrames = ((await theirs(clip)) as { input_features: { dims: number[] } }).input_features.dims[1];
console.log(`frames: ours ${oursFrames}, transformers.js ${theirsFrames}`);
console.log(
  `ratio (transformers.js / ours): median ${(theirsTiming.median / oursTiming.median).toFixed(2)}×, ` +
    `min ${(theirsTiming.min / oursTiming.min).toFixed(2)}×; target ≥ 200× real time (≤ 150 ms): ` +
    `${(seconds * 1000) / oursMs >= 200 ? 'met' : 'NOT met'}`,
);

console.log(`\nfile to features, ${seconds} s recorded at 44.1 kHz, 16-bit mono:`);
const wav = wavBytes(speechLikeSignal(seconds * 44_100, 44_100), 44_100);
await time('readWav', 2, 10, () => readWav(wav));
const decoded = readWav(wav).samples;
await time('resample 44100 → 16000', 1, 5, () => resample(decoded, 44_100, 16_000));
const at48k = speechLikeSignal(seconds * 48_000, 48_000);
await time('resample 48000 → 16000', 1, 5, () => resample(at48k, 48_000, 16_000));
