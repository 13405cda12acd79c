import { describe, expect, it } from 'vitest';
import { importGraph, nodeBuiltinImports } from '@gemma3n/test-support';

describe('browser safety', () => {
  it('the main entry reaches no Node built-in and only @gemma3n/core', () => {
    const graph = importGraph(new URL('./index.ts', import.meta.url));
    expect(graph.files.length).toBeGreaterThanOrEqual(7);
    expect(nodeBuiltinImports(graph)).toEqual([]);
    expect([...graph.external.keys()]).toEqual(['@gemma3n/core']);
  });
});
