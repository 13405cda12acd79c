import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, InputError, ModelFileError, UnsupportedError } from '@gemma3n/core';
import { refusedModelError, runTinyAdd, runTinyAddFromBytes, tinyAddModel, writeTinyAddFolder } from '@gemma3n/test-models';
import {
  createWasmBackend,
  decideThreadCount,
  detectWasmRuntime,
  externalDataLocations,
  mergeWasmSessionOptions,
  wasmBackendName,
  wasmSimdAvailable,
} from '../src/index';
import { nodeFileAccess } from '../src/node-files';

let folder: string;

beforeAll(async () => {
  folder = await writeTinyAddFolder('gemma3n-backend-wasm-unit-');
  await writeFile(join(folder, 'orphan.onnx'), tinyAddModel('gone.onnx_data').model);
  await writeFile(join(folder, 'escaping.onnx'), tinyAddModel('../outside.bin').model);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('wasm backend in Node (onnxruntime-web, no native addon)', () => {
  const backend = createWasmBackend({ graphOptimizationLevel: 'basic' });

  it('initialises onnxruntime-web with SIMD and as many threads as cores (at most 4)', async () => {
    expect(backend.name).toBe(wasmBackendName);
    expect(await backend.isAvailable()).toBe(true);
    expect(backend.environment()).toBeUndefined();
    await backend.init!();
    expect(backend.environment()).toEqual({
      numThreads: Math.min(4, availableParallelism()),
      threadReason: expect.stringContaining(`${availableParallelism()} logical cores`),
      simd: true,
      crossOriginIsolated: false,
      build: 'node',
      onnxruntimeWebVersion: '1.30.0',
    });
  });

  it('runs a model from bytes, with external data as bytes or as a file path', async () => {
    const sum = [11, 22, 33];
    expect(await runTinyAddFromBytes(backend, folder)).toEqual({ inline: sum, externalDataBytes: sum, externalDataPath: sum });
  });

  it('runs a model from a path, finding the external data its initializers name', async () => {
    expect(await runTinyAdd(await backend.createSession({ type: 'path', path: join(folder, 'inline.onnx') }))).toEqual([11, 22, 33]);
    const session = await backend.createSession({ type: 'path', path: join(folder, 'external.onnx') });
    expect(session.inputMetadata[0]).toMatchObject({ name: 'X', isTensor: true, type: 'float32', shape: [1, 3] });
    expect(await runTinyAdd(session)).toEqual([11, 22, 33]);
  });

  it('names a missing model file and a missing external data file', async () => {
    await expect(backend.createSession({ type: 'path', path: join(folder, 'nope.onnx') })).rejects.toSatisfy(
      (error: unknown) => ModelFileError.isInstance(error) && error.problem === 'missing' && error.message.includes('nope.onnx'),
    );
    await expect(backend.createSession({ type: 'path', path: join(folder, 'orphan.onnx') })).rejects.toSatisfy(
      (error: unknown) =>
        ModelFileError.isInstance(error) && error.path === join(folder, 'gone.onnx_data') && /orphan\.onnx keeps its weights there/.test(error.message),
    );
    await expect(backend.createSession({ type: 'path', path: join(folder, 'escaping.onnx') })).rejects.toThrow(InputError);
  });

  it('reports a model onnxruntime-web refuses as a BackendError naming the file', async () => {
    const error = await refusedModelError(backend);
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as BackendError).message).toMatch(/^onnxruntime-web \(wasm\) could not load "onnx\/decoder_model_merged\.onnx": \[wasm\] /);
  });

  it('refuses a second thread count once onnxruntime-web has started', async () => {
    const other = createWasmBackend({ numThreads: 3 });
    await expect(other.init!()).rejects.toSatisfy(
      (error: unknown) => UnsupportedError.isInstance(error) && /already runs with \d wasm threads/.test((error as Error).message),
    );
    // The same count as the running instance is fine.
    await createWasmBackend({ numThreads: backend.environment()!.numThreads }).init!();
  });
});

describe('thread decision', () => {
  const isolatedPage = { isNode: false, crossOriginIsolated: true, sharedArrayBuffer: true, logicalCores: 8 };

  it('uses the cores, at most 4, where threads can run', () => {
    expect(decideThreadCount(undefined, isolatedPage)).toEqual({ numThreads: 4, reason: '8 logical cores, capped at 4' });
    expect(decideThreadCount(undefined, { ...isolatedPage, logicalCores: 2 })).toEqual({ numThreads: 2, reason: '2 logical cores' });
    expect(decideThreadCount(undefined, { isNode: true, crossOriginIsolated: false, sharedArrayBuffer: true, logicalCores: 3 }).numThreads).toBe(3);
    expect(decideThreadCount(6, isolatedPage)).toEqual({ numThreads: 6, reason: 'requested' });
  });

  it('runs single-threaded, saying why, on a page that is not cross-origin isolated', () => {
    const plainPage = { ...isolatedPage, crossOriginIsolated: false };
    expect(decideThreadCount(undefined, plainPage)).toEqual({
      numThreads: 1,
      reason: 'single-threaded: the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)',
    });
    expect(decideThreadCount(4, plainPage).reason).toMatch(/^4 threads requested, but the page is not cross-origin isolated/);
    expect(decideThreadCount(undefined, { ...isolatedPage, sharedArrayBuffer: false }).reason).toBe('single-threaded: SharedArrayBuffer is unavailable');
    expect(() => decideThreadCount(0, isolatedPage)).toThrow(InputError);
    expect(() => createWasmBackend({ numThreads: 1.5 })).toThrow(InputError);
  });

  it('reads the facts from a scope: Node here, a page from a fake', () => {
    expect(detectWasmRuntime()).toEqual({ isNode: true, crossOriginIsolated: false, sharedArrayBuffer: true, logicalCores: availableParallelism() });
    const page = { navigator: { hardwareConcurrency: 6 }, crossOriginIsolated: true, SharedArrayBuffer } as unknown as typeof globalThis;
    expect(detectWasmRuntime(page)).toEqual({ isNode: false, crossOriginIsolated: true, sharedArrayBuffer: true, logicalCores: 6 });
    expect(detectWasmRuntime({} as typeof globalThis)).toEqual({ isNode: false, crossOriginIsolated: false, sharedArrayBuffer: false, logicalCores: 1 });
  });
});

describe('availability, options and helpers', () => {
  it('needs WebAssembly with SIMD', () => {
    expect(wasmSimdAvailable()).toBe(true);
    expect(wasmSimdAvailable({} as typeof globalThis)).toBe(false);
    const noSimd = { WebAssembly: { validate: () => false } } as unknown as typeof globalThis;
    expect(wasmSimdAvailable(noSimd)).toBe(false);
  });

  it('merges options with the wasm provider always last', () => {
    const merged = mergeWasmSessionOptions(
      { graphOptimizationLevel: 'basic', sessionOptions: { enableMemPattern: false, executionProviders: ['webgpu'] } },
      { logSeverityLevel: 3 },
    );
    expect(merged).toEqual({ graphOptimizationLevel: 'basic', enableMemPattern: false, logSeverityLevel: 3, executionProviders: ['wasm'] });
    expect(() => mergeWasmSessionOptions({}, { graphOptimizationLevel: 'max' as 'all' })).toThrow(InputError);
  });

  it('lists the external data files a model names', () => {
    expect(externalDataLocations(tinyAddModel().model)).toEqual([]);
    expect(externalDataLocations(tinyAddModel('weights/w.bin').model)).toEqual(['weights/w.bin']);
    expect(() => externalDataLocations(tinyAddModel('w.bin').model.subarray(0, 40))).toThrow(RangeError);
  });

  it('has no file access without Node', () => {
    expect(nodeFileAccess({} as typeof globalThis)).toBeUndefined();
    expect(nodeFileAccess()?.separator).toBe('/');
  });
});
