import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from 'onnxruntime-common';
import { BackendError, InputError, ModelFileError, listBackends, resolveBackend } from '@gemma3n/core';
import { createNodeBackend, mergeSessionOptions, nodeBackendName } from '../src/index';
import { tinyAddModel } from './tiny-onnx';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'gemma3n-backend-node-test-'));
  const inline = tinyAddModel();
  await writeFile(join(folder, 'inline.onnx'), inline.model);
  const external = tinyAddModel('external.onnx_data');
  await writeFile(join(folder, 'external.onnx'), external.model);
  await writeFile(join(folder, 'external.onnx_data'), external.externalData);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function runAdd(session: Awaited<ReturnType<ReturnType<typeof createNodeBackend>['createSession']>>) {
  const output = await session.run({ X: new Tensor('float32', Float32Array.from([10, 20, 30]), [1, 3]) });
  return Array.from(output.Y!.data as Float32Array);
}

describe('node backend', () => {
  const backend = createNodeBackend({ intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });

  it('runs a model from a path, and finds its external data next to it', async () => {
    expect(await backend.isAvailable()).toBe(true);
    expect(await runAdd(await backend.createSession({ type: 'path', path: join(folder, 'inline.onnx') }))).toEqual([11, 22, 33]);
    const external = await backend.createSession({ type: 'path', path: join(folder, 'external.onnx') });
    expect(external.inputNames).toEqual(['X']);
    expect(external.inputMetadata[0]).toMatchObject({ name: 'X', isTensor: true, type: 'float32', shape: [1, 3] });
    expect(await runAdd(external)).toEqual([11, 22, 33]);
  });

  it('runs a model from bytes, with external data as bytes or as a file path', async () => {
    const inline = tinyAddModel();
    expect(await runAdd(await backend.createSession({ type: 'bytes', bytes: inline.model }))).toEqual([11, 22, 33]);
    const external = tinyAddModel('weights/w.bin');
    const fromBytes = await backend.createSession({
      type: 'bytes', bytes: external.model, externalData: [{ path: 'weights/w.bin', data: external.externalData }],
    });
    expect(await runAdd(fromBytes)).toEqual([11, 22, 33]);
    const named = tinyAddModel('external.onnx_data');
    const fromPath = await backend.createSession({
      type: 'bytes', bytes: named.model, externalData: [{ path: 'external.onnx_data', data: join(folder, 'external.onnx_data') }],
    });
    expect(await runAdd(fromPath)).toEqual([11, 22, 33]);
  });

  it('names a missing model file', async () => {
    const missing = join(folder, 'nope.onnx');
    await expect(backend.createSession({ type: 'path', path: missing })).rejects.toSatisfy(
      (error: unknown) => ModelFileError.isInstance(error) && error.problem === 'missing' && error.message.includes('nope.onnx'),
    );
  });

  it('reports a model onnxruntime refuses as a BackendError naming the file', async () => {
    const external = tinyAddModel('absent.onnx_data');
    const error = await backend
      .createSession({ type: 'bytes', bytes: external.model, name: 'onnx/decoder_model_merged.onnx' })
      .catch((caught: unknown) => caught);
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
