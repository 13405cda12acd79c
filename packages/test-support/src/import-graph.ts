import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a TypeScript entry reaches through its relative imports, read as text (no build). */
export interface ImportGraph {
  /** Every file reached from the entry through relative imports, the entry among them. */
  files: string[];
  /** Each non-relative specifier reached, in first-seen order, with a file (relative to the entry's folder) importing it. */
  external: Map<string, string>;
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier a TypeScript file imports or re-exports (type-only imports included). */
export function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(importPattern)].map((match) => (match[1] ?? match[2]) as string);
}

/**
 * The relative-import closure of `entry` (a path, or a URL such as
 * `new URL('./index.ts', import.meta.url)`), with every non-relative specifier it reaches.
 */
export function importGraph(entry: string | URL): ImportGraph {
  const entryPath = typeof entry === 'string' ? entry : fileURLToPath(entry);
  const sourceRoot = dirname(entryPath);
  const seen = new Set<string>();
  const external = new Map<string, string>();
  const pending = [entryPath];
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

const nodeBuiltins = new Set(builtinModules);

/** Whether a specifier names a Node built-in module (`node:fs`, `fs`, `fs/promises`). */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || nodeBuiltins.has(specifier) || nodeBuiltins.has(specifier.split('/')[0]!);
}

/** The `[specifier, importing file]` pairs of a graph that name a Node built-in: empty for a browser-safe entry. */
export function nodeBuiltinImports(graph: ImportGraph): [string, string][] {
  return [...graph.external].filter(([specifier]) => isNodeBuiltin(specifier));
}
