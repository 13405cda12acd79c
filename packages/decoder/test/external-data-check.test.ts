import { cp, mkdtemp, readFile, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryModelFiles, ModelFileError } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { externalDataRequirements } from '../src/loading/external-data-check';
import { loadDecoderRuntime, modelSourceOf } from '../src/loading/load-decoder-runtime';
import { tinyModelFolder } from './tiny-model-folder';

let source: string;
let copy: string;
const backend = createNodeBackend({ intraOpNumThreads: 1 });

beforeAll(async () => {
  source = await tinyModelFolder('tiny-window-4', 7);
  copy = await mkdtemp(join(tmpdir(), 'gemma3n-short-data-'));
  await cp(source, copy, { recursive: true });
});
afterAll(async () => rm(copy, { recursive: true, force: true }));

describe('external data checks', () => {
  it('reads the bytes each external data file must hold from the graph', async () => {
    const graph = await readFile(join(source, 'onnx', 'embed_tokens.onnx'));
    const required = externalDataRequirements(graph);
    expect([...required.keys()]).toEqual(['embed_tokens.onnx_data']);
    // Our writer fills the data file exactly, so the requirement is its size.
    expect(required.get('embed_tokens.onnx_data')).toBe((await stat(join(source, 'onnx', 'embed_tokens.onnx_data'))).size);
  });

  it('reports a short external data file with expected and actual sizes', async () => {
    const dataFile = join(copy, 'onnx', 'embed_tokens.onnx_data');
    const expected = (await stat(dataFile)).size;
    await truncate(dataFile, 1000);
    const error = await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(copy), backend }).catch((caught: unknown) => caught);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ path: 'onnx/embed_tokens.onnx_data', problem: 'short', expectedBytes: expected, actualBytes: 1000 });
    expect((error as Error).message).toContain(`expected ${expected} bytes, got 1000`);
  });

  it('passes bytes and exactly the named external data when there is no filesystem', async () => {
    const names = ['config.json', 'onnx/embed_tokens.onnx', 'onnx/embed_tokens.onnx_data', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx_data'];
    const contents: Record<string, Uint8Array> = {};
    for (const name of names) contents[name] = new Uint8Array(await readFile(join(source, name)));
    const memory = new MemoryModelFiles(contents, 'memory:tiny');
    const model = await modelSourceOf(memory, 'onnx/decoder_model_merged.onnx');
    expect(model.type).toBe('bytes');
    expect(model.type === 'bytes' && model.externalData?.map((entry) => entry.path)).toEqual(['decoder_model_merged.onnx_data']);
    const { runtime } = await loadDecoderRuntime({ files: memory, backend });
    const fromDisk = (await loadDecoderRuntime({ files: new NodeDirectoryModelFiles(source), backend })).runtime;
    const prompt = [2, 30, 31, 32];
    expect(await runtime.forward(prompt, runtime.createCache())).toEqual(await fromDisk.forward(prompt, fromDisk.createCache()));
  });
});
