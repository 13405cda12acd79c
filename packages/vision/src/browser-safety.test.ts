import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sourceRoot = dirname(fileURLToPath(import.meta.url));
const nodeBuiltins = new Set(builtinModules);

/** Every module specifier a TypeScript file imports or re-exports (type-only imports included). */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(pattern)].map((match) => (match[1] ?? match[2]) as string);
}

/** The relative-import closure of `entry`, with every non-relative specifier it reaches. */
function importGraph(entry: string): { files: string[]; external: Map<string, string> } {
  const seen = new Set<string>();
  const external = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of specifiersOf(file)) {
      if (specifier.startsWith('.')) pending.push(`${join(dirname(file), specifier)}.ts`);
      else external.set(specifier, relative(sourceRoot, file));
    }
  }
  return { files: [...seen], external };
}

describe('browser safety', () => {
  it('src/index.ts reaches no Node built-in and no sharp; its only dependencies are @gemma3n/core and onnxruntime-common (the encoder\'s tensors)', () => {
    const { files, external } = importGraph(join(sourceRoot, 'index.ts'));
    expect(files.length).toBeGreaterThan(8); // the walk really found the package's modules
    expect(files.some((file) => file.endsWith('load-image-node.ts'))).toBe(false);
    const nodeImports = [...external].filter(([specifier]) => specifier.startsWith('node:') || nodeBuiltins.has(specifier));
    expect(nodeImports).toEqual([]);
    expect([...external.keys()].sort()).toEqual(['@gemma3n/core', 'onnxruntime-common']);
  });

  it('the Node entry is where fs and sharp live, sharp only as a dynamic import', () => {
    const { external } = importGraph(join(sourceRoot, 'node.ts'));
    expect([...external.keys()].sort()).toEqual(['@gemma3n/core', 'node:fs/promises', 'node:url', 'onnxruntime-common', 'sharp']);
    expect(readFileSync(join(sourceRoot, 'node.ts'), 'utf8')).toContain("import('sharp')");
    expect(readFileSync(join(sourceRoot, 'node.ts'), 'utf8')).not.toMatch(/from\s+'sharp'/);
  });
});
