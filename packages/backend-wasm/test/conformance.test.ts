import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelFiles } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { generateTokens, loadDecoderRuntime } from '@gemma3n/decoder';
import { runBackendConformance } from '@gemma3n/decoder/testing';
import { withoutFilesystem } from '@gemma3n/test-models';
import { createWasmBackend } from '../src/index';
import { makeTinyModelFolder, tinyModelGreedyTokens } from './tiny-model-folder';

// The decoder's own conformance test uses this shape, seed and prompt (longer than the window of 4).
const shape = 'tiny-window-4';
const seed = 7;
const promptIds = [2, 17, 250, 33, 5, 99, 140, 61];
const tokenCount = 12;

const wasm = createWasmBackend();
let model: Awaited<ReturnType<typeof makeTinyModelFolder>>;

beforeAll(async () => {
  model = await makeTinyModelFolder(shape, seed);
});

afterAll(async () => {
  await model?.remove();
});

async function greedyTokensAndLogits(backend: typeof wasm | ReturnType<typeof createNodeBackend>, files: ModelFiles) {
  const { runtime } = await loadDecoderRuntime({ files, backend });
  const firstLogits = await runtime.forward(promptIds, runtime.createCache());
  const result = await generateTokens({
    model: runtime, cache: runtime.createCache(), promptIds, decoder: { decode: () => '' },
    options: { temperature: 0, maxNewTokens: tokenCount, stopTokenIds: [] },
  });
  await runtime.release();
  return { tokens: result.tokenIds, firstLogits };
}

describe('decoder conformance on the wasm backend in Node', () => {
  it('passes every check, for path models and byte models alike', async () => {
    const expectedGreedyTokens = tinyModelGreedyTokens(shape, seed, promptIds, tokenCount);
    const disk = new NodeDirectoryModelFiles(model.folder);
    for (const files of [disk, withoutFilesystem(disk)]) {
      const results = await runBackendConformance({ backend: wasm, files, promptIds, expectedGreedyTokens });
      expect(results.filter((result) => !result.passed)).toEqual([]);
      expect(results.map((result) => result.name)).toEqual([
        'greedy tokens equal the reference forward pass',
        'prefill in pieces equals prefill in one piece',
        'a cache cut back to a prefix continues like a fresh one',
        'present tensors grow by the tokens fed',
        'an abort stops generation within one step',
      ]);
    }
  });

  it('generates the same greedy tokens as backend-node on the same model and prompt', async () => {
    const disk = new NodeDirectoryModelFiles(model.folder);
    const onNode = await greedyTokensAndLogits(createNodeBackend({ intraOpNumThreads: 1 }), disk);
    const onWasm = await greedyTokensAndLogits(wasm, withoutFilesystem(disk));
    expect(onWasm.tokens).toHaveLength(tokenCount);
    expect(onWasm.tokens).toEqual(onNode.tokens);
    expect(onWasm.tokens).toEqual(tinyModelGreedyTokens(shape, seed, promptIds, tokenCount));
    let largest = 0;
    for (let index = 0; index < onNode.firstLogits.length; index++) {
      largest = Math.max(largest, Math.abs(onNode.firstLogits[index]! - onWasm.firstLogits[index]!));
    }
    console.log(`greedy tokens [${onWasm.tokens.join(', ')}]; max |logit node − logit wasm| after the prompt: ${largest.toExponential(2)}`);
    expect(largest).toBeLessThan(1e-4);
  });
});
