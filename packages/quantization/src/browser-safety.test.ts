import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sourceRoot = dirname(fileURLToPath(import.meta.url));

/** Module specifiers a file imports or re-exports. */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(pattern)].map((match) => (match[1] ?? match[2]) as string);
}

describe('browser safety', () => {
  it('the main entry reaches no Node built-in and only @gemma3n/core', () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const pending = [join(sourceRoot, 'index.ts')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const specifier of specifiersOf(file)) {
        if (specifier.startsWith('.')) pending.push(`${join(dirname(file), specifier)}.ts`);
        else external.add(specifier);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(7);
    expect([...external].filter((specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier))).toEqual([]);
    expect([...external]).toEqual(['@gemma3n/core']);
  });
});
