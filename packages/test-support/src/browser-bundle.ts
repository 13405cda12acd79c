import { statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { expect, it } from 'vitest';
import { isNodeBuiltin } from './import-graph';

const packagesRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** `@gemma3n/name` → that package's TypeScript sources, as the vitest aliases do. */
const workspaceSources: Plugin = {
  name: 'workspace-sources',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@gemma3n\/[a-z0-9-]+$/ }, (args) => ({ path: join(packagesRoot, args.path.slice('@gemma3n/'.length), 'src/index.ts') }));
  },
};

/** One entry bundled by esbuild, minified, in memory. */
export interface EntryBundle {
  /** The files bundled in, relative to `packages/`. */
  inputs: string[];
  /** Every specifier those files import. */
  imports: string[];
  text: string;
  bytes: number;
  gzipBytes: number;
}

/** Bundles `entry` (relative to `packageRoot`) for `platform`, resolving `@gemma3n/*` to sources. */
export async function bundleEntry(packageRoot: string, entry: string, platform: 'browser' | 'node'): Promise<EntryBundle> {
  const result = await build({
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

/** The onnxruntime-web files a bundle took in, by file name (`ort.wasm.bundle.min.mjs`). */
export function onnxruntimeWebFiles(bundle: EntryBundle): string[] {
  return bundle.inputs.filter((path) => path.includes('onnxruntime-web')).map((path) => path.slice(path.lastIndexOf('/') + 1));
}

export interface BrowserBundleCase {
  /** The backend package's folder. */
  packageRoot: string;
  /** Which onnxruntime-web build the test name promises, e.g. `the wasm-only onnxruntime-web`. */
  onnxruntimeWebDescription: string;
  /** The only onnxruntime-web file the browser bundle may take in. */
  onnxruntimeWebBuild: string;
  /** The `.wasm` file (in `onnxruntime-web/dist`) that build loads, whose size is logged. */
  wasmFile: string;
}

/**
 * Test cases (call inside a `describe`): the package's `src/index.ts` and `src/register.ts`
 * bundle for the browser with no Node module, and with only `onnxruntimeWebBuild` of
 * onnxruntime-web. Logs the bundle sizes.
 */
export function itBundlesForTheBrowser({ packageRoot, onnxruntimeWebDescription, onnxruntimeWebBuild, wasmFile }: BrowserBundleCase): void {
  it.each(['src/index.ts', 'src/register.ts'])(`%s bundles for the browser with no Node module and ${onnxruntimeWebDescription}`, async (entry) => {
    const browser = await bundleEntry(packageRoot, entry, 'browser');
    expect(browser.imports.filter(isNodeBuiltin)).toEqual([]);
    expect(browser.text).not.toMatch(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:node:|fs["'/]|path["'/])/);
    expect(onnxruntimeWebFiles(browser)).toEqual([onnxruntimeWebBuild]);
    const wasmBytes = statSync(join(packageRoot, 'node_modules/onnxruntime-web/dist', wasmFile)).size;
    console.log(`${entry} browser bundle: ${browser.bytes} bytes JS (${browser.gzipBytes} gzip), plus ${wasmFile} ${wasmBytes} bytes`);
  });
}
