import { InputError, type SessionOptions } from '@gemma3n/core';

/** Settings of the onnxruntime-web WASM backend. */
export interface WasmBackendOptions {
  /**
   * wasm threads. Default: the logical cores (at most 4) where threads can run — Node, or a
   * cross-origin isolated page — else 1. A count that cannot run here falls back to 1; see
   * `WasmBackend.environment().threadReason`.
   */
  numThreads?: number;
  /**
   * Where the page serves onnxruntime-web's `ort-wasm-simd-threaded.wasm` (and `.mjs`): a URL
   * prefix ending in `/`, or the files' URLs (`env.wasm.wasmPaths`). Default: next to
   * onnxruntime-web's script, which is where bundlers that copy `new URL(…, import.meta.url)`
   * assets put it. Not needed in Node.
   */
  wasmPaths?: string | { wasm?: string | URL; mjs?: string | URL };
  /** The `.wasm` bytes, when the caller has fetched or cached them already (`env.wasm.wasmBinary`). */
  wasmBinary?: ArrayBufferLike | Uint8Array;
  /** Graph optimisation level; default `'all'`. */
  graphOptimizationLevel?: SessionOptions['graphOptimizationLevel'];
  /** Any other onnxruntime session options, passed through unchanged. */
  sessionOptions?: SessionOptions;
}

const optimizationLevels = ['disabled', 'basic', 'extended', 'layout', 'all'] as const;

/** Throws an InputError naming the first bad setting. */
export function validateWasmBackendOptions(options: WasmBackendOptions): void {
  const threads = options.numThreads;
  if (threads !== undefined && !(Number.isSafeInteger(threads) && threads >= 1)) {
    throw new InputError({ field: 'numThreads', value: threads, expected: 'an integer ≥ 1' });
  }
  const level = options.graphOptimizationLevel;
  if (level !== undefined && !optimizationLevels.includes(level)) {
    throw new InputError({ field: 'graphOptimizationLevel', value: level, expected: `one of ${optimizationLevels.join(', ')}` });
  }
  const paths = options.wasmPaths;
  if (paths !== undefined && typeof paths !== 'string' && (typeof paths !== 'object' || paths === null)) {
    throw new InputError({ field: 'wasmPaths', value: paths, expected: 'a URL prefix or { wasm, mjs } URLs' });
  }
}

/**
 * The session options sent to onnxruntime-web: the wasm execution provider and `'all'`
 * optimisation underneath, then pass-through options, the backend's named settings, and the
 * call's options (later wins). The execution provider is always `wasm`: that is what this
 * backend's build contains.
 */
export function mergeWasmSessionOptions(backend: WasmBackendOptions, call: SessionOptions | undefined): SessionOptions {
  const merged: SessionOptions = {
    graphOptimizationLevel: 'all',
    ...backend.sessionOptions,
    ...(backend.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: backend.graphOptimizationLevel }),
    ...call,
    executionProviders: ['wasm'],
  };
  validateWasmBackendOptions({ graphOptimizationLevel: merged.graphOptimizationLevel });
  return merged;
}
