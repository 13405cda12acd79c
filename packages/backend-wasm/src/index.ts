/** @gemma3n/backend-wasm: runs gemma3n-js sessions on onnxruntime-web's wasm CPU provider, in browsers and Node. */
export { createWasmBackend, wasmBackendName, wasmSimdAvailable, type WasmBackend, type WasmEnvironment } from './wasm-backend';
export { mergeWasmSessionOptions, validateWasmBackendOptions, type WasmBackendOptions } from './wasm-backend-options';
export { decideThreadCount, detectWasmRuntime, maxDefaultThreads, type ThreadDecision, type WasmRuntimeFacts } from './wasm-threads';
// Kept here for callers that imported it from this package before it moved to core.
export { externalDataLocations } from '@gemma3n/core';
