import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { itBundlesForTheBrowser } from '@gemma3n/test-support';

describe('browser bundle', () => {
  itBundlesForTheBrowser({
    packageRoot: fileURLToPath(new URL('..', import.meta.url)),
    onnxruntimeWebDescription: 'the native-WebGPU onnxruntime-web build',
    onnxruntimeWebBuild: 'ort.webgpu.bundle.min.mjs',
    wasmFile: 'ort-wasm-simd-threaded.asyncify.wasm',
  });
});
