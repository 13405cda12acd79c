import { InputError, type SessionOptions } from '@gemma3n/core';

/** Settings of the onnxruntime-node backend; each may also be given per session. */
export interface NodeBackendOptions {
  /** Threads inside one operator (a MatMul). Default: onnxruntime's choice (the physical cores). */
  intraOpNumThreads?: number;
  /** Threads across independent operators; only used with `executionMode: 'parallel'`. */
  interOpNumThreads?: number;
  /** Graph optimisation level; default `'all'`. */
  graphOptimizationLevel?: SessionOptions['graphOptimizationLevel'];
  /** Default `['cpu']`. */
  executionProviders?: SessionOptions['executionProviders'];
  /** Any other onnxruntime session options, passed through unchanged. */
  sessionOptions?: SessionOptions;
}

const optimizationLevels = ['disabled', 'basic', 'extended', 'layout', 'all'] as const;

/** Throws an InputError naming the first bad setting. */
export function validateNodeBackendOptions(options: NodeBackendOptions): void {
  for (const field of ['intraOpNumThreads', 'interOpNumThreads'] as const) {
    const value = options[field];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new InputError({ field, value, expected: 'an integer ≥ 0 (0 lets onnxruntime decide)' });
    }
  }
  const level = options.graphOptimizationLevel;
  if (level !== undefined && !optimizationLevels.includes(level)) {
    throw new InputError({ field: 'graphOptimizationLevel', value: level, expected: `one of ${optimizationLevels.join(', ')}` });
  }
}

/**
 * The session options sent to onnxruntime: pass-through options first, then the named
 * settings of the backend, then those of the call (later wins), with this backend's defaults
 * underneath.
 */
export function mergeSessionOptions(backend: NodeBackendOptions, call: SessionOptions | undefined): SessionOptions {
  const named = (options: NodeBackendOptions): SessionOptions => {
    const result: SessionOptions = {};
    if (options.intraOpNumThreads !== undefined) result.intraOpNumThreads = options.intraOpNumThreads;
    if (options.interOpNumThreads !== undefined) result.interOpNumThreads = options.interOpNumThreads;
    if (options.graphOptimizationLevel !== undefined) result.graphOptimizationLevel = options.graphOptimizationLevel;
    if (options.executionProviders !== undefined) result.executionProviders = options.executionProviders;
    return result;
  };
  const merged: SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...backend.sessionOptions,
    ...named(backend),
    ...call,
  };
  validateNodeBackendOptions(merged as NodeBackendOptions);
  return merged;
}
