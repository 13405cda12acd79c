/** @gemma3n/backend-node: runs gemma3n-js sessions on onnxruntime-node (CPU). */
export { createNodeBackend, nodeBackendName } from './node-backend';
export { mergeSessionOptions, validateNodeBackendOptions, type NodeBackendOptions } from './node-session-options';
