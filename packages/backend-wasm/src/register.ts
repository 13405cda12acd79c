/**
 * Side-effect entry (`@gemma3n/backend-wasm/register`): registers the wasm backend in the shared
 * registry as `wasm`, priority 1 — below `node` (10) and `webgpu`, above nothing: it runs
 * everywhere, so it is the fallback. The only module of this package listed in `sideEffects`.
 */
import { registerBackend } from '@gemma3n/core';
import { createWasmBackend, wasmBackendName } from './wasm-backend';

registerBackend(wasmBackendName, createWasmBackend(), 1);
