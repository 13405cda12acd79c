import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sourceRoot = dirname(fileURLToPath(import.meta.url));

/** Non-relative specifiers reachable from `entry` through relative imports. */
function externalImports(entry: string): { files: number; external: Set<string> } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('.')) pending.push(`${join(dirname(file), specifier)}.ts`);
      else external.add(specifier);
    }
  }
  return { files: seen.size, external };
}

describe('browser safety', () => {
  it('index.ts reaches no Node module, no backend and no Node entry', () => {
    const entry = 'index.ts';
    const { files, external } = externalImports(join(sourceRoot, entry));
    expect(files).toBeGreaterThan(4);
    const builtins = new Set(builtinModules);
    expect([...external].filter((specifier) => specifier.startsWith('node:') || builtins.has(specifier))).toEqual([]);
    // The vision and audio main entries are browser-safe themselves (their own browser-safety tests).
    expect([...external].sort()).toEqual(['@gemma3n/audio', '@gemma3n/core', '@gemma3n/decoder', '@gemma3n/tokenizer', '@gemma3n/vision']);
  });
});

describe('node entry', () => {
  it('is where the Node-only packages come in', () => {
    const { external } = externalImports(join(sourceRoot, 'node.ts'));
    expect([...external].sort()).toEqual([
      '@gemma3n/audio',
      '@gemma3n/backend-node',
      '@gemma3n/core',
      '@gemma3n/core/node',
      '@gemma3n/decoder',
      '@gemma3n/tokenizer',
      '@gemma3n/vision',
      '@gemma3n/vision/node',
      'node:fs/promises',
    ]);
  });
});
