import { InputError, type SessionOptions } from '@gemma3n/core';

/** Settings of the onnxruntime-web WebGPU backend. */
export interface WebGpuBackendOptions {
  /** Adapter choice, given to `requestAdapter` and to onnxruntime-web (`env.webgpu`). */
  powerPreference?: 'low-power' | 'high-performance';
  forceFallbackAdapter?: boolean;
  /**
   * Where `present.*` outputs live. `'gpu-buffer'` (default): they stay on the GPU and are fed
   * back as the next step's past without a copy. `'cpu'`: read back every step, for code that
   * needs the cache's values on the CPU (see the README on `KvCache.truncate`).
   */
  kvCacheLocation?: 'gpu-buffer' | 'cpu';
  /**
   * Refuse float16 graphs on an adapter without `shader-f16` (default true): onnxruntime's
   * WebGPU EP cannot run them there. Set false only to see what onnxruntime itself does.
   */
  checkFloat16Support?: boolean;
  /** Threads of the wasm CPU provider for nodes WebGPU has no kernel for; default 1. */
  numThreads?: number;
  /** Where the page serves `ort-wasm-simd-threaded.asyncify.wasm` (`env.wasm.wasmPaths`). */
  wasmPaths?: string | { wasm?: string | URL; mjs?: string | URL };
  /** A GPUDevice the app already owns, for every session (WebGPU EP option `device`). */
  device?: unknown;
  /** Graph optimisation level; default `'all'`. */
  graphOptimizationLevel?: SessionOptions['graphOptimizationLevel'];
  /** Any other onnxruntime session options, passed through unchanged. */
  sessionOptions?: SessionOptions;
}

const optimizationLevels = ['disabled', 'basic', 'extended', 'layout', 'all'] as const;

/** Throws an InputError naming the first bad setting. */
export function validateWebGpuBackendOptions(options: WebGpuBackendOptions): void {
  const { powerPreference, kvCacheLocation, numThreads, graphOptimizationLevel } = options;
  if (powerPreference !== undefined && powerPreference !== 'low-power' && powerPreference !== 'high-performance') {
    throw new InputError({ field: 'powerPreference', value: powerPreference, expected: '"low-power" or "high-performance"' });
  }
  if (kvCacheLocation !== undefined && kvCacheLocation !== 'gpu-buffer' && kvCacheLocation !== 'cpu') {
    throw new InputError({ field: 'kvCacheLocation', value: kvCacheLocation, expected: '"gpu-buffer" or "cpu"' });
  }
  if (numThreads !== undefined && !(Number.isSafeInteger(numThreads) && numThreads >= 1)) {
    throw new InputError({ field: 'numThreads', value: numThreads, expected: 'an integer ≥ 1' });
  }
  if (graphOptimizationLevel !== undefined && !optimizationLevels.includes(graphOptimizationLevel)) {
    throw new InputError({ field: 'graphOptimizationLevel', value: graphOptimizationLevel, expected: `one of ${optimizationLevels.join(', ')}` });
  }
}

/** The names of a decoder's cache outputs (`present.3.key`), which stay on the GPU. */
export function presentOutputNames(outputNames: readonly string[]): string[] {
  return outputNames.filter((name) => /^present\./.test(name));
}

/**
 * The session options sent to onnxruntime-web for one model: `'all'` optimisation underneath,
 * then pass-through options, the named settings and the call's options (later wins); the
 * WebGPU execution provider (with the app's device, if any) and the output locations always
 * come from here — `present.*` on the GPU (unless `kvCacheLocation: 'cpu'`), everything else,
 * logits included, on the CPU where the sampler reads it.
 */
export function webGpuSessionOptions(
  backend: WebGpuBackendOptions,
  call: SessionOptions | undefined,
  outputNames: readonly string[],
): SessionOptions {
  const merged: SessionOptions = {
    graphOptimizationLevel: 'all',
    ...backend.sessionOptions,
    ...(backend.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: backend.graphOptimizationLevel }),
    ...call,
  };
  validateWebGpuBackendOptions({ graphOptimizationLevel: merged.graphOptimizationLevel });
  const provider = backend.device === undefined ? { name: 'webgpu' } : { name: 'webgpu', device: backend.device };
  merged.executionProviders = [provider as InferenceSessionWebGpuProvider];
  const onGpu = backend.kvCacheLocation === 'cpu' ? [] : presentOutputNames(outputNames);
  if (onGpu.length > 0) {
    merged.preferredOutputLocation = Object.fromEntries(outputNames.map((name) => [name, onGpu.includes(name) ? 'gpu-buffer' : 'cpu'] as const));
  } else {
    delete merged.preferredOutputLocation;
  }
  return merged;
}

type InferenceSessionWebGpuProvider = NonNullable<SessionOptions['executionProviders']>[number];
