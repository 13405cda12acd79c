import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleFiles, formatBundleTable } from './bundle-sizes';

const dist = fileURLToPath(new URL('../dist', import.meta.url));

describe('the built app', () => {
  const files = bundleFiles(dist);
  const sizeOf = (pattern: RegExp): number => files.filter((file) => pattern.test(file.path)).reduce((sum, file) => sum + file.bytes, 0);

  it('has its page, its scripts and onnxruntime-web files at ort/ (sizes printed)', () => {
    console.log(`apps/web/dist:\n${formatBundleTable(files)}`);
    expect(files.map((file) => file.path)).toContain('index.html');
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    // The page script is hashed and referenced relatively, so the app can live in any folder.
    expect(html).toMatch(/src="\.\/assets\/index-[\w-]+\.js"/);
    // The UI's own script stays small; onnxruntime loads in the worker only.
    expect(sizeOf(/^assets\/index-.*\.js$/)).toBeLessThan(40 * 1024);
    expect(sizeOf(/\.css$/)).toBeLessThan(10 * 1024);
  });

  it('copies the onnxruntime-web runtime files unchanged and only once', () => {
    const ortFolder = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
    for (const name of ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs']) {
      expect(readFileSync(join(dist, 'ort', name)).equals(readFileSync(join(ortFolder, name)))).toBe(true);
    }
    // No second, hashed copy emitted by the bundler from onnxruntime's `new URL(…)` references.
    expect(files.filter((file) => file.path.endsWith('.wasm')).map((file) => file.path).sort()).toEqual([
      'ort/ort-wasm-simd-threaded.asyncify.wasm',
      'ort/ort-wasm-simd-threaded.wasm',
    ]);
  });
});
