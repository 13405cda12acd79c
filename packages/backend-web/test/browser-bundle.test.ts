import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesRoot = join(packageRoot, '..');
/** The part of esbuild's API used here (its types are not resolvable from this package). */
interface EsbuildPlugin {
  name: string;
  setup(build: { onResolve(options: { filter: RegExp }, callback: (args: { path: string }) => { path: string }): void }): void;
}
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    metafile: { inputs: Record<string, { imports: { path: string }[] }> };
    outputFiles: { text: string; contents: Uint8Array }[];
  }>;
}

// esbuild is installed as tsup's dependency, not ours: resolve it from there.
const esbuild = createRequire(createRequire(import.meta.url).resolve('tsup'))('esbuild') as Esbuild;

/** `@gemma3n/name` → that package's TypeScript sources, as the vitest aliases do. */
const workspaceSources: EsbuildPlugin = {
  name: 'workspace-sources',
  setup(build) {
    build.onResolve({ filter: /^@gemma3n\/[a-z0-9-]+$/ }, (args) => ({ path: join(packagesRoot, args.path.slice('@gemma3n/'.length), 'src/index.ts') }));
  },
};

async function bundle(entry: string, platform: 'browser' | 'node') {
  const result = await esbuild.build({
    entryPoints: [join(packageRoot, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    metafile: true,
    minify: true,
    logLevel: 'silent',
    plugins: [workspaceSources],
  });
  const inputs = Object.keys(result.metafile.inputs).map((path) => relative(packagesRoot, join(process.cwd(), path)));
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((imported) => imported.path));
  const text = result.outputFiles[0]!.text;
  return { inputs, imports, text, bytes: result.outputFiles[0]!.contents.byteLength, gzipBytes: gzipSync(text).byteLength };
}

const builtins = new Set(builtinModules);
const isNodeModule = (specifier: string) => specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!);

describe('browser bundle', () => {
  it.each(['src/index.ts', 'src/register.ts'])('%s bundles for the browser with no Node module and the native-WebGPU onnxruntime-web build', async (entry) => {
    const browser = await bundle(entry, 'browser');
    expect(browser.imports.filter(isNodeModule)).toEqual([]);
    expect(browser.text).not.toMatch(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:node:|fs["'/]|path["'/])/);
    const ortFiles = browser.inputs.filter((path) => path.includes('onnxruntime-web'));
    expect(ortFiles.map((path) => path.slice(path.lastIndexOf('/') + 1))).toEqual(['ort.webgpu.bundle.min.mjs']);
    const wasmBytes = statSync(join(packageRoot, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm')).size;
    console.log(`${entry} browser bundle: ${browser.bytes} bytes JS (${browser.gzipBytes} gzip), plus ort-wasm-simd-threaded.asyncify.wasm ${wasmBytes} bytes`);
  });
});
