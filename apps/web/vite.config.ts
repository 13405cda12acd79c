import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP) gives SharedArrayBuffer, which onnxruntime-web needs
 * for wasm threads, and performance.measureUserAgentSpecificMemory.
 */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** onnxruntime-web's runtime files, loaded at `ort/` through `env.wasm.wasmPaths`. */
const ortRuntimeFiles = [
  // The wasm EP (onnxruntime-web/wasm).
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.mjs',
  // The native WebGPU EP (onnxruntime-web/webgpu) is built with asyncify.
  'ort-wasm-simd-threaded.asyncify.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
];

/**
 * Copies those files into the build as they are: emitted under a fixed name, so the worker
 * finds them at `ort/` without relying on how the bundler rewrites onnxruntime's own
 * `new URL(…, import.meta.url)` references.
 */
function copyOnnxRuntimeFiles(): Plugin {
  const require = createRequire(import.meta.url);
  const ortFolder = dirname(require.resolve('onnxruntime-web/wasm'));
  return {
    name: 'gemma3n-copy-onnxruntime-files',
    apply: 'build',
    generateBundle() {
      for (const name of ortRuntimeFiles) {
        this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(join(ortFolder, name)) });
      }
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [copyOnnxRuntimeFiles()],
  // onnxruntime-web's "extern wasm" builds load their .mjs glue and .wasm from `wasmPaths`
  // instead of embedding the glue: one copy of each file, at a URL the worker sets itself.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
