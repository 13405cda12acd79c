import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Gemma3nConfig, kvSharingPlan, parseGemma3nConfig } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { randomCheckpointWeights, TINY_TEXT_SHAPES } from '@gemma3n/convert';
import { referenceForward } from '@gemma3n/reference';
import { generateTokens, streamTokens } from '../src/generation/generate-tokens';
import { loadDecoderRuntime } from '../src/loading/load-decoder-runtime';
import type { DecoderRuntime } from '../src/runtime/decoder-runtime';
import { argmax } from '../src/sampling/logits-processing';
import { declareKvForAllLayers } from './declare-all-layers';
import { tinyModelFolder } from './tiny-model-folder';

const seed = 7;
const noText = { decode: () => '' };
const backend = createNodeBackend({ intraOpNumThreads: 1 });

/** Greedy decoding with the plain-TypeScript reference forward pass, recomputed from scratch each step. */
function referenceGreedy(config: Gemma3nConfig, lookup: (name: string) => Float32Array, prompt: number[], count: number) {
  const ids = [...prompt];
  const vocabSize = config.text.vocabSize;
  const firstLogits: Float32Array[] = [];
  for (let step = 0; step < count; step++) {
    const logits = referenceForward(config, lookup, ids);
    const last = logits.slice((ids.length - 1) * vocabSize, ids.length * vocabSize);
    if (step === 0) firstLogits.push(last.slice());
    last.fill(Number.NEGATIVE_INFINITY, config.text.vocabSizePerLayerInput);
    ids.push(argmax(last));
  }
  return { tokens: ids.slice(prompt.length), firstLogits: firstLogits[0]! };
}

function maxAbsDifference(left: Float32Array, right: Float32Array): number {
  let max = 0;
  for (let index = 0; index < left.length; index++) max = Math.max(max, Math.abs(left[index]! - right[index]!));
  return max;
}

describe.each([
  // Prompts longer than the sliding window (4 and 6), so generation runs past it.
  { shape: 'tiny-window-4' as const, prompt: [2, 17, 250, 33, 5, 99, 140, 61] },
  { shape: 'tiny-gqa-4to1' as const, prompt: [2, 300, 12, 45, 78, 201, 3, 66, 90, 150] },
])('ORT greedy on $shape', ({ shape, prompt }) => {
  let runtime: DecoderRuntime;
  let config: Gemma3nConfig;
  let lookup: (name: string) => Float32Array;

  beforeAll(async () => {
    const folder = await tinyModelFolder(shape, seed);
    ({ runtime, config } = await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(folder), backend }));
    const weights = randomCheckpointWeights(TINY_TEXT_SHAPES[shape] as Record<string, unknown>, { seed });
    lookup = (name) => weights.get(name);
    expect(parseGemma3nConfig(TINY_TEXT_SHAPES[shape]).text.numHiddenLayers).toBe(config.text.numHiddenLayers);
  });

  it('declares KV only for the non-shared layers', () => {
    const cacheLayers = config.text.numHiddenLayers - config.text.numKvSharedLayers;
    expect(runtime.pastInputNames).toHaveLength(2 * cacheLayers);
    expect(runtime.pastInputNames.at(-1)).toBe(`past_key_values.${cacheLayers - 1}.value`);
  });

  it('generates the reference forward pass’s greedy tokens for 20 steps', async () => {
    const steps = 20;
    const stepLogits: Float32Array[] = [];
    const result = await generateTokens({
      model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: noText,
      options: { temperature: 0, maxNewTokens: steps, stopTokenIds: [], onLogits: (logits) => stepLogits.push(logits.slice()) },
    });
    const reference = referenceGreedy(config, lookup, prompt, steps);
    expect(result.tokenIds).toEqual(reference.tokens);
    expect(new Set(result.tokenIds).size).toBeGreaterThan(3); // not one token repeated
    expect(maxAbsDifference(stepLogits[0]!, reference.firstLogits)).toBeLessThan(1e-3);
  });

  it('generates the same tokens when the prompt is prefilled in pieces smaller than the window', async () => {
    const folder = await tinyModelFolder(shape, seed);
    const pieced = (await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(folder), backend, prefillChunkSize: 3 })).runtime;
    const result = await generateTokens({
      model: pieced, cache: pieced.createCache(), promptIds: prompt, decoder: noText,
      options: { temperature: 0, maxNewTokens: 12, stopTokenIds: [] },
    });
    expect(result.tokenIds).toEqual(referenceGreedy(config, lookup, prompt, 12).tokens);
  });

  it('gives the same logits whether the past was prefilled in one piece, in pieces, or cut back and refilled', async () => {
    const whole = await runtime.forward(prompt, runtime.createCache());
    const pieces = runtime.createCache();
    await runtime.forward(prompt.slice(0, 3), pieces);
    await runtime.forward(prompt.slice(3, 5), pieces);
    const pieced = await runtime.forward(prompt.slice(5), pieces);
    expect(maxAbsDifference(whole, pieced)).toBeLessThan(1e-4);

    const detour = runtime.createCache();
    await runtime.forward([...prompt.slice(0, 4), 7, 8, 9], detour);
    detour.truncate(4);
    const refilled = await runtime.forward(prompt.slice(4), detour);
    expect(detour.tokenIds).toEqual(prompt);
    expect(maxAbsDifference(whole, refilled)).toBeLessThan(1e-4);
  });

  it('stops within one step of an abort', async () => {
    const controller = new AbortController();
    const cache = runtime.createCache();
    const stream = streamTokens({
      model: runtime, cache, promptIds: prompt, decoder: noText,
      options: { temperature: 0, maxNewTokens: 50, stopTokenIds: [], signal: controller.signal },
    });
    let received = 0;
    await expect(
      (async () => {
        for await (const _delta of stream) if (++received === 3) controller.abort();
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(received).toBe(3);
    // The prompt and the first two generated tokens were fed; the third never was.
    expect(cache.length).toBe(prompt.length + 2);
  });
});

describe('an onnx-community-style decoder that declares KV for every layer', () => {
  it('is fed what it declares and generates the same tokens', async () => {
    const source = await tinyModelFolder('tiny-window-4', seed);
    const target = await mkdtemp(join(tmpdir(), 'gemma3n-all-layers-'));
    try {
      await cp(source, target, { recursive: true });
      const config = parseGemma3nConfig(JSON.parse(await readFile(join(source, 'config.json'), 'utf8')));
      const decoderFile = join(target, 'onnx', 'decoder_model_merged.onnx');
      await writeFile(decoderFile, declareKvForAllLayers(await readFile(decoderFile), kvSharingPlan(config.text), config.text.numKeyValueHeads, config.text.headDim));

      const original = await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(source), backend });
      const allLayers = await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(target), backend });
      expect(allLayers.runtime.pastInputNames).toHaveLength(2 * config.text.numHiddenLayers);
      expect(original.runtime.pastInputNames).toHaveLength(2 * (config.text.numHiddenLayers - config.text.numKvSharedLayers));
      const prompt = [2, 17, 250, 33, 5, 99, 140, 61];
      const options = { temperature: 0, maxNewTokens: 16, stopTokenIds: [] };
      const expected = await generateTokens({ model: original.runtime, cache: original.runtime.createCache(), promptIds: prompt, decoder: noText, options });
      const cache = allLayers.runtime.createCache();
      const actual = await generateTokens({ model: allLayers.runtime, cache, promptIds: prompt, decoder: noText, options });
      expect(actual.tokenIds).toEqual(expected.tokenIds);
      // The shared layers' presents were carried over too: the producer's K/V, full length.
      const lastLayer = config.text.numHiddenLayers - 1;
      expect(cache.tensors.get(`past_key_values.${lastLayer}.key`)?.dims[2]).toBe(prompt.length + 15);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});
