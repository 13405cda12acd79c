import { defineConfig } from 'tsup';

/**
 * Builds the benchmark (Node only, never published) into `.cache/bench/`, which git ignores.
 * Our sources are bundled in; transformers.js stays external and loads from node_modules.
 */
export default defineConfig({
  tsconfig: 'tsconfig.json',
  entry: { 'bench-features': 'bench/bench-features.ts' },
  outDir: '.cache/bench',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  dts: false,
  sourcemap: false,
  external: ['@huggingface/transformers'],
  noExternal: [/^@gemma3n\//],
});
