/**
 * Speed of the optimized text graphs against the compat ones through onnxruntime-node (CPU EP),
 * on random weights: prefill tokens/s (num_logits_to_keep 1 and 0) and decode ms/token, for a
 * tiny shape and for an E2B-width model with a few layers and a reduced vocabulary. Sessions of
 * every variant are open at once and measured in turns, so load from other processes on the
 * machine hits every variant alike. Not a unit test; run with
 *   npx esbuild src/text-optimized/optimized-graphs-bench.ts --bundle --platform=node --format=esm \
 *     --external:onnxruntime-node --outfile=/tmp/optimized-graphs-bench.mjs && \
 *   node /tmp/optimized-graphs-bench.mjs [tiny|e2b-width] [prompt tokens] [decode steps] [threads] [rounds]
 * (from packages/convert, so `onnxruntime-node` resolves).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { e2bShapeConfig, TINY_TEXT_SHAPES } from '../checkpoint/tiny-text-shapes';
import {
  emptyPast,
  openTextGraphSessions,
  presentsAsPast,
  releaseTextGraphSessions,
  runTextGraphs,
  type TextGraphSessions,
} from '../text/text-graph-sessions';
import { writeTextGraphs, type WriteTextGraphsOptions } from '../text/write-text-graphs';

const [shapeName = 'tiny', promptText = '128', stepsText = '16', threadsText = '2', roundsText = '3'] = process.argv.slice(2);
const promptLength = Number(promptText);
const decodeSteps = Number(stepsText);
const threads = Number(threadsText);
const rounds = Number(roundsText);

/** E2B widths (D 2048, P 256, 8 q heads, 2 KV heads, head_dim 256, FFN 8192, window 512), 4 layers, 32 K vocabulary. */
function e2bWidthConfig(): Record<string, unknown> {
  // Layers sliding, full, sliding, full; F = 2: producers 0 and 1, consumers 2 and 3.
  return e2bShapeConfig({ numHiddenLayers: 4, numKvSharedLayers: 2, fullEvery: 2, sparseLayers: 2, baseVocab: 32768, realSpecialIds: false });
}

interface Variant {
  label: string;
  options: WriteTextGraphsOptions;
}

const VARIANTS: Variant[] = [
  { label: 'compat', options: { graph: 'compat' } },
  { label: 'optimized (defaults: consumers D)', options: { graph: 'optimized' } },
  { label: 'optimized, consumers A (GQA)', options: { graph: 'optimized', consumerAttention: 'group-query-attention' } },
  { label: 'optimized, lm_head Gemm transB on [V,D]', options: { graph: 'optimized', lmHead: 'gemm-transposed-b' } },
];

interface Loaded extends TextGraphSessions {
  variant: Variant;
  prefillKeepOne: number[];
  prefillKeepAll: number[];
  decode: number[];
  /** embed_tokens' share of each decode step. */
  decodeEmbed: number[];
  /** Process CPU time (user + system) of the same runs: steadier than wall time on a loaded machine with 1 thread. */
  cpu: { prefillKeepOne: number[]; prefillKeepAll: number[]; decode: number[] };
}

interface Clock {
  wall: number;
  cpu: number;
}

function now(): Clock {
  const usage = process.cpuUsage();
  return { wall: performance.now(), cpu: (usage.user + usage.system) / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** Under load from other processes the minimum is the steadier estimate of a variant's own cost. */
const minimum = (values: number[]) => Math.min(...values);

async function main(): Promise<void> {
  const raw = shapeName === 'e2b-width' ? e2bWidthConfig() : TINY_TEXT_SHAPES['tiny-window-4'];
  const config = parseGemma3nConfig(raw);
  const weights = randomCheckpointWeights(raw, { seed: 1 });
  const root = await mkdtemp(join(tmpdir(), 'optimized-graphs-bench-'));
  const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'all' };
  const loaded: Loaded[] = [];
  try {
    for (const variant of VARIANTS) {
      const directory = join(root, String(loaded.length));
      const started = performance.now();
      await writeTextGraphs(config, weights, directory, variant.options);
      const written = performance.now();
      const sessions = await openTextGraphSessions(directory, config, sessionOptions);
      console.log(`${variant.label}: written in ${((written - started) / 1000).toFixed(1)} s, sessions in ${((performance.now() - written) / 1000).toFixed(1)} s`);
      loaded.push({ ...sessions, variant, prefillKeepOne: [], prefillKeepAll: [], decode: [], decodeEmbed: [], cpu: { prefillKeepOne: [], prefillKeepAll: [], decode: [] } });
    }
    const prompt = Array.from({ length: promptLength }, (_, index) => (index * 7919 + 13) % config.text.vocabSizePerLayerInput);
    // Round 0 is a warm-up and is not recorded. Variants take turns at every prefill and every
    // decode step, so a burst of load from other processes hits them alike.
    for (let round = 0; round <= rounds; round++) {
      const record = (entry: Loaded, kind: 'prefillKeepOne' | 'prefillKeepAll' | 'decode', started: Clock) => {
        if (round === 0) return;
        const ended = now();
        entry[kind].push(ended.wall - started.wall);
        entry.cpu[kind].push(ended.cpu - started.cpu);
      };
      const caches = new Map<Loaded, ort.InferenceSession.OnnxValueMapType>();
      for (const entry of loaded) {
        const started = now();
        await runTextGraphs(entry, prompt, 0, 0, emptyPast(entry, 1));
        record(entry, 'prefillKeepAll', started);
      }
      for (const entry of loaded) {
        const started = now();
        caches.set(entry, await runTextGraphs(entry, prompt, 0, 1, emptyPast(entry, 1)));
        record(entry, 'prefillKeepOne', started);
      }
      for (let step = 0; step < decodeSteps; step++) {
        for (const entry of loaded) {
          const started = now();
          const embedTimes = round > 0 ? entry.decodeEmbed : undefined;
          caches.set(entry, await runTextGraphs(entry, [prompt[step % prompt.length]!], promptLength + step, 1, presentsAsPast(caches.get(entry)!), embedTimes));
          record(entry, 'decode', started);
        }
      }
    }
    console.log(`\n${shapeName}: D ${config.text.hiddenSize}, ${config.text.numHiddenLayers} layers, V ${config.text.vocabSize}, prompt ${promptLength}, ${threads} threads; median (best)`);
    for (const entry of loaded) {
      const rate = (times: number[], pick: (values: number[]) => number) => ((promptLength / pick(times)) * 1000).toFixed(0);
      console.log(
        `${entry.variant.label.padEnd(40)} prefill ${rate(entry.prefillKeepOne, median)} (${rate(entry.prefillKeepOne, minimum)}) tok/s keep 1, ` +
          `${rate(entry.prefillKeepAll, median)} (${rate(entry.prefillKeepAll, minimum)}) keep all; ` +
          `decode ${median(entry.decode).toFixed(2)} (${minimum(entry.decode).toFixed(2)}) ms/token, embed_tokens ${median(entry.decodeEmbed).toFixed(2)} ms of it`,
      );
      console.log(
        `${''.padEnd(40)} CPU time: prefill ${rate(entry.cpu.prefillKeepOne, median)} tok/s keep 1, ${rate(entry.cpu.prefillKeepAll, median)} keep all; ` +
          `decode ${median(entry.cpu.decode).toFixed(2)} ms/token`,
      );
    }
  } finally {
    for (const entry of loaded) await releaseTextGraphSessions(entry);
    await rm(root, { recursive: true, force: true });
  }
}

await main();
