import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleEntry, itBundlesForTheBrowser, onnxruntimeWebFiles } from '@gemma3n/test-support';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

describe('browser bundle', () => {
  itBundlesForTheBrowser({
    packageRoot,
    onnxruntimeWebDescription: 'the wasm-only onnxruntime-web',
    onnxruntimeWebBuild: 'ort.wasm.bundle.min.mjs',
    wasmFile: 'ort-wasm-simd-threaded.wasm',
  });

  it('takes onnxruntime-web\'s Node build where the node condition applies', async () => {
    const node = await bundleEntry(packageRoot, 'src/index.ts', 'node');
    expect(onnxruntimeWebFiles(node)).toEqual(['ort.node.min.mjs']);
  });
});
