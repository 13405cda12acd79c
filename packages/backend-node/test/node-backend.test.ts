import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, InputError, ModelFileError, listBackends, resolveBackend } from '@gemma3n/core';
import { refusedModelError, runTinyAdd, runTinyAddFromBytes, writeTinyAddFolder } from '@gemma3n/test-models';
import { createNodeBackend, mergeSessionOptions, nodeBackendName } from '../src/index';

let folder: string;

beforeAll(async () => {
  folder = await writeTinyAddFolder('gemma3n-backend-node-test-');
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('node backend', () => {
  const backend = createNodeBackend({ intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });

  it('runs a model from a path, and finds its external data next to it', async () => {
    expect(await backend.isAvailable()).toBe(true);
    expect(await runTinyAdd(await backend.createSession({ type: 'path', path: join(folder, 'inline.onnx') }))).toEqual([11, 22, 33]);
    const external = await backend.createSession({ type: 'path', path: join(folder, 'external.onnx') });
    expect(external.inputNames).toEqual(['X']);
    expect(external.inputMetadata[0]).toMatchObject({ name: 'X', isTensor: true, type: 'float32', shape: [1, 3] });
    expect(await runTinyAdd(external)).toEqual([11, 22, 33]);
  });

  it('runs a model from bytes, with external data as bytes or as a file path', async () => {
    const sum = [11, 22, 33];
    expect(await runTinyAddFromBytes(backend, folder)).toEqual({ inline: sum, externalDataBytes: sum, externalDataPath: sum });
  });

  it('names a missing model file', async () => {
    const missing = join(folder, 'nope.onnx');
    await expect(backend.createSession({ type: 'path', path: missing })).rejects.toSatisfy(
      (error: unknown) => ModelFileError.isInstance(error) && error.problem === 'missing' && error.message.includes('nope.onnx'),
    );
  });

  it('reports a model onnxruntime refuses as a BackendError naming the file', async () => {
    const error = await refusedModelError(backend);
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as BackendError).message).toMatch(/could not load "onnx\/decoder_model_merged\.onnx"/);
    expect((error as BackendError).failures[0]?.backend).toBe(nodeBackendName);
  });

  it('merges options: defaults, pass-through, named settings, then the call', () => {
    const merged = mergeSessionOptions(
      { intraOpNumThreads: 2, sessionOptions: { enableCpuMemArena: false, intraOpNumThreads: 8 } },
      { graphOptimizationLevel: 'extended' },
    );
    expect(merged).toEqual({ executionProviders: ['cpu'], graphOptimizationLevel: 'extended', enableCpuMemArena: false, intraOpNumThreads: 2 });
    expect(() => createNodeBackend({ intraOpNumThreads: -1 })).toThrow(InputError);
    expect(() => createNodeBackend({ graphOptimizationLevel: 'max' as 'all' })).toThrow(/graphOptimizationLevel is "max"/);
  });

  it('registers itself through the register entry', async () => {
    await import('../src/register');
    expect(listBackends().map((info) => info.name)).toContain(nodeBackendName);
    const resolved = await resolveBackend([nodeBackendName]);
    expect(resolved.name).toBe(nodeBackendName);
  });
});
