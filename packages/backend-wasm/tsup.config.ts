import { defineConfig } from 'tsup';

export default defineConfig({
  tsconfig: 'tsconfig.build.json',
  entry: ['src/index.ts', 'src/register.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Resolved by whoever loads dist (Node, or the app's bundler) through package.json "imports",
  // so the `node` condition picks onnxruntime-web's Node build and browsers get `/wasm`.
  external: ['#onnxruntime-web'],
});
