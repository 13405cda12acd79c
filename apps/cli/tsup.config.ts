import { defineConfig } from 'tsup';

export default defineConfig({
  tsconfig: 'tsconfig.build.json',
  // bench-child is the benchmark's measured process (spawned by `gemma3n bench`), next to bin.js.
  entry: { bin: 'src/bin.ts', 'bench-child': 'src/bench/bench-child.ts' },
  // transformers.js is a devDependency used only by the benchmark's child; never bundle it.
  external: ['@huggingface/transformers'],
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  banner: { js: '#!/usr/bin/env node' },
});
