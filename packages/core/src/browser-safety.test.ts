import { describe, expect, it } from 'vitest';
import { importGraph, nodeBuiltinImports } from '@gemma3n/test-support';

describe('browser safety', () => {
  it('src/index.ts reaches no Node built-in module and depends only on onnxruntime-common', () => {
    const graph = importGraph(new URL('./index.ts', import.meta.url));
    // The graph walk must actually have found the package's modules.
    expect(graph.files.length).toBeGreaterThan(15);
    expect(nodeBuiltinImports(graph)).toEqual([]);
    expect([...graph.external.keys()]).toEqual(['onnxruntime-common']);
  });

  it('the Node entry is where fs lives', () => {
    const { external } = importGraph(new URL('./node.ts', import.meta.url));
    expect([...external.keys()].sort()).toEqual(['node:fs/promises', 'node:path']);
  });
});
