import { describe, expect, it } from 'vitest';
import { importGraph, nodeBuiltinImports } from '@gemma3n/test-support';

describe('browser safety', () => {
  it('index.ts reaches no Node module, no backend and no Node entry', () => {
    const graph = importGraph(new URL('./index.ts', import.meta.url));
    expect(graph.files.length).toBeGreaterThan(4);
    expect(nodeBuiltinImports(graph)).toEqual([]);
    // The vision and audio main entries are browser-safe themselves (their own browser-safety tests).
    expect([...graph.external.keys()].sort()).toEqual(['@gemma3n/audio', '@gemma3n/core', '@gemma3n/decoder', '@gemma3n/tokenizer', '@gemma3n/vision']);
  });
});

describe('node entry', () => {
  it('is where the Node-only packages come in', () => {
    const { external } = importGraph(new URL('./node.ts', import.meta.url));
    expect([...external.keys()].sort()).toEqual([
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
