import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importGraph, nodeBuiltinImports } from '@gemma3n/test-support';

const nodeEntry = new URL('./node.ts', import.meta.url);

describe('browser safety', () => {
  it('src/index.ts reaches no Node built-in and no sharp; its only dependencies are @gemma3n/core and onnxruntime-common (the encoder\'s tensors)', () => {
    const graph = importGraph(new URL('./index.ts', import.meta.url));
    expect(graph.files.length).toBeGreaterThan(8); // the walk really found the package's modules
    expect(graph.files.some((file) => file.endsWith('load-image-node.ts'))).toBe(false);
    expect(nodeBuiltinImports(graph)).toEqual([]);
    expect([...graph.external.keys()].sort()).toEqual(['@gemma3n/core', 'onnxruntime-common']);
  });

  it('the Node entry is where fs and sharp live, sharp only as a dynamic import', () => {
    const { external } = importGraph(nodeEntry);
    expect([...external.keys()].sort()).toEqual(['@gemma3n/core', 'node:fs/promises', 'node:url', 'onnxruntime-common', 'sharp']);
    expect(readFileSync(nodeEntry, 'utf8')).toContain("import('sharp')");
    expect(readFileSync(nodeEntry, 'utf8')).not.toMatch(/from\s+'sharp'/);
  });
});
