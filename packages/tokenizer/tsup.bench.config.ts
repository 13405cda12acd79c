import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

/**
 * Builds the benchmark (tsx is not installed, so it is bundled and run with node). The output
 * goes under `.cache/`, which git ignores; transformers.js stays external and is loaded from
 * node_modules as the comparison baseline.
 */
export default defineConfig({
  tsconfig: 'tsconfig.json',
  entry: { 'tokenizer-bench': 'bench/tokenizer-bench.ts' },
  outDir: '.cache/bench',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: false,
  clean: true,
  sourcemap: true,
  external: ['@huggingface/transformers'],
  // Resolve workspace packages from their TypeScript sources, as the tests do.
  esbuildOptions(options) {
    options.alias = { '@gemma3n/core': fileURLToPath(new URL('../core/src/index.ts', import.meta.url)) };
  },
});
