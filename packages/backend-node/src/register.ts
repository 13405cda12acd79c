/**
 * Side-effect entry (`@gemma3n/backend-node/register`): registers the onnxruntime-node backend
 * in the shared registry, so `Gemma3n.load(...)` finds it without being passed a backend.
 * The only module of this package listed in `sideEffects`.
 */
import { registerBackend } from '@gemma3n/core';
import { createNodeBackend, nodeBackendName } from './node-backend';

registerBackend(nodeBackendName, createNodeBackend(), 10);
