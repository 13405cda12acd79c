import { describe, expect, it } from 'vitest';
import { importGraph, nodeBuiltinImports } from '@gemma3n/test-support';

describe('browser safety', () => {
  it.each(['index.ts', 'testing.ts'])('%s reaches no Node module', (entry) => {
    const graph = importGraph(new URL(entry, import.meta.url));
    expect(graph.files.length).toBeGreaterThan(entry === 'index.ts' ? 12 : 3);
    expect(nodeBuiltinImports(graph)).toEqual([]);
    expect([...graph.external.keys()].sort()).toEqual(['@gemma3n/core', 'onnxruntime-common']);
  });
});
