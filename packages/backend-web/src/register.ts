/**
 * Side-effect entry (`@gemma3n/backend-web/register`): registers the WebGPU backend in the
 * shared registry as `webgpu`, priority 5 — above `wasm` (1), so a page with a GPU uses it and
 * falls back to wasm when `isAvailable()` or `init()` fails. The only module of this package
 * listed in `sideEffects`.
 */
import { registerBackend } from '@gemma3n/core';
import { createWebGpuBackend, webGpuBackendName } from './webgpu-backend';

registerBackend(webGpuBackendName, createWebGpuBackend(), 5);
