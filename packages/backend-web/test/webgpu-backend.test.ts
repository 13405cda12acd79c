import { describe, expect, it } from 'vitest';
import { Tensor } from 'onnxruntime-common';
import { InputError, UnsupportedError } from '@gemma3n/core';
import {
  createWebGpuBackend,
  GpuKvSession,
  probeWebGpu,
  runWebGpuSelfTest,
  scanOnnxGraph,
  webGpuBackendName,
  webGpuSessionOptions,
} from '../src/index';
import { encodeOnnxModel, kvCacheSelfTestModel, warmUpModel } from '../src/onnx-model-encoding';
import { fakeAdapter, fakeGpuCacheSession, fakeGpuTensor, fakeNavigator } from './fake-gpu';

const swiftShader = fakeAdapter(['subgroups', 'timestamp-query'], { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader device' });

/** A float32 graph with one Cast to float16 and back (what a partially fp16 export contains). */
function castToFloat16Model(): Uint8Array {
  return encodeOnnxModel({
    nodes: [
      { opType: 'Cast', name: 'to_half', inputs: ['X'], outputs: ['H'], attributes: { to: 10 } },
      { opType: 'Cast', name: 'to_float', inputs: ['H'], outputs: ['Y'], attributes: { to: 1 } },
    ],
    inputs: [{ name: 'X', elementType: 1, dims: [1] }],
    outputs: [{ name: 'Y', elementType: 1, dims: [1] }],
  });
}

describe('availability', () => {
  it('is unavailable, saying why, without navigator.gpu, without an adapter, or when the request fails', async () => {
    expect(await probeWebGpu(undefined)).toEqual({ available: false, reason: expect.stringMatching(/^navigator\.gpu is missing/) });
    expect(await probeWebGpu({})).toMatchObject({ available: false });
    expect(await probeWebGpu(fakeNavigator(null))).toEqual({
      available: false,
      reason: expect.stringContaining('found no adapter (no usable GPU; headless Chromium needs --enable-unsafe-webgpu'),
    });
    expect(await probeWebGpu(fakeNavigator(new Error('device lost')))).toEqual({ available: false, reason: 'navigator.gpu.requestAdapter() failed: device lost' });

    const noGpu = createWebGpuBackend({}, { navigator: {} });
    expect(noGpu.name).toBe(webGpuBackendName);
    expect(await noGpu.isAvailable()).toBe(false);
    expect(noGpu.unavailableReason()).toMatch(/^navigator\.gpu is missing/);
    await expect(noGpu.init!()).rejects.toThrow(/navigator\.gpu is missing/);
    // Node 20 itself has no navigator.gpu.
    expect(await createWebGpuBackend().isAvailable()).toBe(false);
  });

  it('reports the adapter: features, shader-f16, identity, buffer limits; asks with the power preference', async () => {
    const navigator = fakeNavigator(swiftShader);
    const backend = createWebGpuBackend({ powerPreference: 'high-performance' }, { navigator });
    expect(backend.adapter()).toBeUndefined();
    expect(await backend.isAvailable()).toBe(true);
    expect(await backend.isAvailable()).toBe(true);
    expect(navigator.requests).toEqual([{ powerPreference: 'high-performance', forceFallbackAdapter: undefined }]);
    expect(backend.adapter()).toEqual({
      features: ['subgroups', 'timestamp-query'],
      shaderF16: false,
      vendor: 'google',
      architecture: 'swiftshader',
      device: '',
      description: 'SwiftShader device',
      isFallbackAdapter: false,
      maxBufferSize: 4294967296,
      maxStorageBufferBindingSize: 1073741824,
    });
    const f16 = createWebGpuBackend({}, { navigator: fakeNavigator(fakeAdapter(['shader-f16'])) });
    await f16.isAvailable();
    expect(f16.adapter()?.shaderF16).toBe(true);
  });
});

describe('session creation checks that need no GPU', () => {
  it('refuses a float16 graph on an adapter without shader-f16, naming the file, the evidence and the fix', async () => {
    const backend = createWebGpuBackend({}, { navigator: fakeNavigator(swiftShader) });
    const error = await backend.createSession({ type: 'bytes', bytes: castToFloat16Model(), name: 'onnx/decoder_model_merged_q4f16.onnx' }).catch((caught: unknown) => caught);
    expect(UnsupportedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      '"onnx/decoder_model_merged_q4f16.onnx" computes in float16 (cast "to_half"), but this WebGPU adapter ' +
        '(google swiftshader SwiftShader device) lacks the "shader-f16" feature; use an fp32 or q4 file instead of fp16 / q4f16, or the wasm backend',
    );
  });

  it('refuses a path: a browser has no filesystem', async () => {
    const backend = createWebGpuBackend({}, { navigator: fakeNavigator(swiftShader) });
    await expect(backend.createSession({ type: 'path', path: 'onnx/embed_tokens.onnx' })).rejects.toSatisfy(
      (error: unknown) => UnsupportedError.isInstance(error) && /cannot open "onnx\/embed_tokens\.onnx": pass \{ type: 'bytes'/.test((error as Error).message),
    );
    await expect(createWebGpuBackend({}, { navigator: {} }).createSession({ type: 'bytes', bytes: warmUpModel() })).rejects.toThrow(/navigator\.gpu is missing/);
  });

  it('validates options', () => {
    expect(() => createWebGpuBackend({ kvCacheLocation: 'texture' as 'cpu' })).toThrow(InputError);
    expect(() => createWebGpuBackend({ powerPreference: 'fast' as 'low-power' })).toThrow(/powerPreference/);
    expect(() => createWebGpuBackend({ numThreads: 0 })).toThrow(InputError);
  });
});

describe('session options', () => {
  const decoderOutputs = ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'];

  it('keeps present.* on the GPU and everything else, logits included, on the CPU', () => {
    const options = webGpuSessionOptions({ sessionOptions: { enableMemPattern: false } }, { logSeverityLevel: 3 }, decoderOutputs);
    expect(options).toEqual({
      graphOptimizationLevel: 'all',
      enableMemPattern: false,
      logSeverityLevel: 3,
      executionProviders: [{ name: 'webgpu' }],
      preferredOutputLocation: {
        logits: 'cpu',
        'present.0.key': 'gpu-buffer',
        'present.0.value': 'gpu-buffer',
        'present.1.key': 'gpu-buffer',
        'present.1.value': 'gpu-buffer',
      },
    });
  });

  it('sets no output locations for the embedder or with kvCacheLocation cpu; passes an app device to the provider', () => {
    expect(webGpuSessionOptions({}, undefined, ['inputs_embeds', 'per_layer_inputs']).preferredOutputLocation).toBeUndefined();
    const device = { label: 'app device' };
    const cpuCache = webGpuSessionOptions(
      { kvCacheLocation: 'cpu', device, graphOptimizationLevel: 'basic' },
      { executionProviders: ['wasm'], preferredOutputLocation: 'gpu-buffer' },
      decoderOutputs,
    );
    expect(cpuCache).toEqual({ graphOptimizationLevel: 'basic', executionProviders: [{ name: 'webgpu', device }] });
  });
});

describe('graph scan', () => {
  it('reads output names in graph order and finds float16 evidence', () => {
    expect(scanOnnxGraph(kvCacheSelfTestModel())).toEqual({ outputNames: ['present.0.key', 'logits'], float16: undefined });
    expect(scanOnnxGraph(castToFloat16Model()).float16).toEqual({ kind: 'cast', name: 'to_half' });
    const halfInput = encodeOnnxModel({
      nodes: [{ opType: 'Identity', inputs: ['X'], outputs: ['Y'] }],
      inputs: [{ name: 'X', elementType: 10, dims: [1] }],
      outputs: [{ name: 'Y', elementType: 10, dims: [1] }],
    });
    expect(scanOnnxGraph(halfInput)).toEqual({ outputNames: ['Y'], float16: { kind: 'input', name: 'X' } });
    const halfWeight = encodeOnnxModel({
      nodes: [{ opType: 'Add', inputs: ['X', 'W'], outputs: ['Y'] }],
      initializers: [{ name: 'W', elementType: 10, dims: [1], rawData: Uint8Array.from([0x00, 0x3c]) }],
      inputs: [{ name: 'X', elementType: 1, dims: [1] }],
      outputs: [{ name: 'Y', elementType: 1, dims: [1] }],
    });
    expect(scanOnnxGraph(halfWeight).float16).toEqual({ kind: 'initializer', name: 'W' });
  });
});

describe('GpuKvSession', () => {
  const step = (values: number[]) => new Tensor('float32', Float32Array.from(values), [1, 1, 1, 2]);
  const empty = (): Tensor => new Tensor('float32', new Float32Array(0), [1, 1, 0, 2]);

  it('releases each GPU past once the run that read it succeeds, and the rest on release()', async () => {
    const disposed = { count: 0 };
    const session = new GpuKvSession(fakeGpuCacheSession(disposed));
    expect(session.outputNames).toEqual(['present.0.key', 'logits']);
    let past = empty();
    for (const [index, values] of [[1, 2], [10, 20], [100, 200]].entries()) {
      const outputs = await session.run({ step: step(values), 'past_key_values.0.key': past });
      expect(outputs['present.0.key']!.location).toBe('gpu-buffer');
      past = outputs['present.0.key']!;
      expect(disposed.count).toBe(index); // the previous present, now consumed
      expect(session.liveGpuTensorCount).toBe(1);
    }
    expect(Array.from((await past.getData()) as Float32Array)).toEqual([1, 2, 10, 20, 100, 200]);
    // A cache dropped without being fed again is freed with the session.
    const dropped = (await session.run({ step: step([5, 5]), 'past_key_values.0.key': empty() }))['present.0.key']!;
    expect(session.liveGpuTensorCount).toBe(2);
    await session.release();
    expect(disposed.count).toBe(4);
    expect(dropped.location).toBe('none');
    await expect(session.run({ step: step([1, 1]), 'past_key_values.0.key': empty() })).rejects.toThrow('This session was released');
  });

  it('says so when a consumed past is fed again, and keeps a past whose run failed', async () => {
    const disposed = { count: 0 };
    const inner = fakeGpuCacheSession(disposed);
    const session = new GpuKvSession(inner);
    const first = (await session.run({ step: step([1, 2]), 'past_key_values.0.key': empty() }))['present.0.key']!;
    await session.run({ step: step([3, 4]), 'past_key_values.0.key': first });
    await expect(session.run({ step: step([5, 6]), 'past_key_values.0.key': first })).rejects.toThrow(
      '"past_key_values.0.key" was released: a GPU past is consumed by the run it is fed to, so it can be fed once',
    );
    expect(inner.runs).toBe(2);
    const failing = new GpuKvSession({ ...fakeGpuCacheSession(disposed), run: async () => { throw new Error('out of memory'); } } as never);
    const foreign = fakeGpuTensor(Float32Array.from([1, 2]), [1, 1, 1, 2], disposed);
    const before = disposed.count;
    await expect(failing.run({ step: step([1, 1]), 'past_key_values.0.key': foreign })).rejects.toThrow('out of memory');
    expect(disposed.count).toBe(before);
    expect(foreign.location).toBe('gpu-buffer');
  });
});

describe('self-test', () => {
  it('passes on a session that keeps the cache on the GPU and feeds it back', async () => {
    const disposed = { count: 0 };
    const backend = {
      name: 'fake-webgpu', isAvailable: () => true, adapter: () => undefined,
      createSession: async () => new GpuKvSession(fakeGpuCacheSession(disposed)),
    };
    const result = await runWebGpuSelfTest({ backend });
    expect(result.checks.filter((line) => !line.startsWith('ok'))).toEqual([]);
    expect(result.passed).toBe(true);
    expect(result.checks).toContain('ok step 2: logits on cpu = [111, 222], expected [111, 222]');
    expect(result.checks).toContain('ok downloaded cache [1, 2, 10, 20, 100, 200]');
    expect(disposed.count).toBe(3);
  });

  it('fails, naming the steps, on an engine that loses the past', async () => {
    const backend = {
      name: 'forgetful', isAvailable: () => true,
      createSession: async () => new GpuKvSession(fakeGpuCacheSession({ count: 0 }, { forgetPast: true })),
    };
    const result = await runWebGpuSelfTest({ backend });
    expect(result.passed).toBe(false);
    expect(result.checks.filter((line) => line.startsWith('FAILED'))).toEqual([
      'FAILED step 1: present.0.key dims [1, 1, 1, 2]',
      'FAILED step 1: logits on cpu = [10, 20], expected [11, 22]',
      'FAILED step 2: present.0.key dims [1, 1, 1, 2]',
      'FAILED step 2: logits on cpu = [100, 200], expected [111, 222]',
      'FAILED downloaded cache [100, 200]',
    ]);
  });

  it('runs its model on real onnxruntime-web (the Node build, wasm provider, cache on the CPU)', async () => {
    // onnxruntime-web resolves to its Node build here: WebGPU cannot run in Node, the model and
    // the checks can.
    const ort = await import('onnxruntime-web');
    const backend = {
      name: 'node-wasm', isAvailable: () => true,
      createSession: async (model: { type: string; bytes?: Uint8Array }) => ort.InferenceSession.create(model.bytes!, { executionProviders: ['wasm'] }),
    };
    const result = await runWebGpuSelfTest({ backend, expectKvOnGpu: false });
    expect(result.checks.filter((line) => !line.startsWith('ok'))).toEqual([]);
    expect(result.checks).toHaveLength(3 * 3 + 1);
  });
});
