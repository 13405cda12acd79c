// Page side of scripts/chromium-check.mjs: expected tokens are those of the tiny-window-4 model, seed 7
// (the decoder conformance test's model), computed by the reference forward pass in Node.
import { FetchModelFiles } from '@gemma3n/core';
import { runBackendConformance } from '@gemma3n/decoder/testing';
import { createWebGpuBackend, runWebGpuSelfTest } from '@gemma3n/backend-web';
import { createWasmBackend } from '@gemma3n/backend-wasm';

const expectedGreedyTokens = [231, 250, 210, 210, 280, 318, 3, 127, 166, 255, 42, 133];
const promptIds = [2, 17, 250, 33, 5, 99, 140, 61];

(globalThis as { runProbe?: (which: string) => Promise<unknown> }).runProbe = async (which: string) => {
  const files = new FetchModelFiles({ baseUrl: `${location.origin}/model/` });
  if (which === 'webgpu-selftest') {
    const backend = createWebGpuBackend({ wasmPaths: '/ort/' });
    const available = await backend.isAvailable();
    if (!available) return { available, reason: backend.unavailableReason() };
    return await runWebGpuSelfTest({ backend });
  }
  if (which === 'webgpu-gpu' || which === 'webgpu-cpu') {
    const backend = createWebGpuBackend({ wasmPaths: '/ort/', kvCacheLocation: which === 'webgpu-gpu' ? 'gpu-buffer' : 'cpu' });
    const started = performance.now();
    const results = await runBackendConformance({ backend, files, promptIds, expectedGreedyTokens, logitTolerance: 1e-3 });
    return { results, ms: Math.round(performance.now() - started), adapter: backend.adapter() };
  }
  if (which === 'wasm') {
    const backend = createWasmBackend({ wasmPaths: '/ort/' });
    const started = performance.now();
    const results = await runBackendConformance({ backend, files, promptIds, expectedGreedyTokens });
    return { results, ms: Math.round(performance.now() - started), environment: backend.environment(), isolated: crossOriginIsolated };
  }
  throw new Error(which);
};
