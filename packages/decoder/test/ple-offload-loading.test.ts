import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { makeTinyModel, offloadPerLayerEmbeddings } from '@gemma3n/convert';
import { generateTokens } from '../src/generation/generate-tokens';
import { loadDecoderRuntime } from '../src/loading/load-decoder-runtime';

const backend = createNodeBackend({ intraOpNumThreads: 1 });
const prompt = [2, 17, 250, 33, 5, 99, 140, 61];
let folder: string;

beforeAll(async () => {
  folder = join(await mkdtemp(join(tmpdir(), 'ple-loading-')), 'model');
  await makeTinyModel(folder, { shape: 'tiny-window-4', seed: 7 });
  await offloadPerLayerEmbeddings(folder);
});
afterAll(async () => {
  await rm(dirname(folder), { recursive: true, force: true });
});

describe('loadDecoderRuntime with pleOffload', () => {
  it('reads the per-layer table from its row file and generates the same tokens', async () => {
    const files = new NodeDirectoryModelFiles(folder);
    const options = { temperature: 0, maxNewTokens: 12, stopTokenIds: [] };
    const plain = await loadDecoderRuntime({ files, backend, pleOffload: false });
    const offloaded = await loadDecoderRuntime({ files, backend, pleOffload: true });
    // The tiny table is below the automatic threshold, so 'auto' keeps it in the graph.
    const automatic = await loadDecoderRuntime({ files, backend });
    expect(plain.fileNames.embed_tokens).toBe('onnx/embed_tokens.onnx');
    expect(automatic.perLayerTableFile).toBeUndefined();
    expect(offloaded.fileNames.embed_tokens).toBe('onnx/embed_tokens_text.onnx');
    expect(offloaded.perLayerTableFile).toBe('onnx/embed_tokens_per_layer.safetensors');
    const run = (runtime: typeof plain.runtime) =>
      generateTokens({ model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: { decode: () => '' }, options });
    expect((await run(offloaded.runtime)).tokenIds).toEqual((await run(plain.runtime)).tokenIds);
  });
});
