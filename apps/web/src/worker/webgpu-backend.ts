import * as ort from 'onnxruntime-web/webgpu';
type InferenceSession = ort.InferenceSession;
import { type Backend, BackendError, type ModelSource, type SessionOptions, UnsupportedError } from '@gemma3n/core';

export interface WebGpuAdapterFacts {
  vendor: string;
  architecture: string;
  description: string;
  shaderF16: boolean;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
  features: { has(name: string): boolean };
}

/**
 * A stand-in WebGPU Backend for the app until @gemma3n/backend-web lands: onnxruntime-web's
 * native WebGPU EP (`onnxruntime-web/webgpu`, the C++ EP; ort-op-support.md found it right on
 * more ops than the JSEP build). Nodes without a WebGPU kernel run on its wasm CPU EP.
 */
export function createAppWebGpuBackend(params: { wasmPaths: string }): Backend & { adapterFacts(): WebGpuAdapterFacts | undefined } {
  let facts: WebGpuAdapterFacts | undefined;
  let initPromise: Promise<void> | undefined;
  const init = (): Promise<void> => {
    initPromise ??= (async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
      if (gpu === undefined) throw new UnsupportedError({ feature: 'backend', value: 'webgpu', message: 'This browser has no WebGPU (navigator.gpu is undefined)' });
      const adapter = await gpu.requestAdapter();
      if (adapter === null) throw new UnsupportedError({ feature: 'backend', value: 'webgpu', message: 'WebGPU gave no adapter (navigator.gpu.requestAdapter() returned null)' });
      facts = {
        vendor: adapter.info?.vendor ?? '',
        architecture: adapter.info?.architecture ?? '',
        description: adapter.info?.description ?? '',
        shaderF16: adapter.features.has('shader-f16'),
      };
      ort.env.wasm.wasmPaths = params.wasmPaths;
      ort.env.wasm.proxy = false;
    })();
    return initPromise;
  };
  return {
    name: 'webgpu',
    isAvailable: () => typeof navigator !== 'undefined' && 'gpu' in navigator,
    init,
    adapterFacts: () => facts,
    async createSession(model: ModelSource, callOptions?: SessionOptions): Promise<InferenceSession> {
      await init();
      if (model.type !== 'bytes') {
        throw new UnsupportedError({ feature: 'model source', value: model.type, supported: ['bytes'] });
      }
      const options: SessionOptions = {
        graphOptimizationLevel: 'all',
        ...callOptions,
        executionProviders: ['webgpu'],
        ...(model.externalData !== undefined && model.externalData.length > 0
          ? { externalData: model.externalData.map((entry) => ({ path: entry.path, data: entry.data })) }
          : {}),
      };
      try {
        return await ort.InferenceSession.create(model.bytes, options);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new BackendError({
          message: `onnxruntime-web (webgpu) could not load "${model.name ?? '(bytes)'}"`,
          failures: [{ backend: 'webgpu', reason, cause: error }],
          cause: error,
        });
      }
    },
  };
}
