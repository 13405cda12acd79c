import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gemma3nConfig } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { onnx } from '../onnx/onnx-proto';
import type { InMemoryTensorSource, TensorSource } from '../tensor-source';
import { RowRangeTestSource } from '../text/row-range-test-source';
import {
  checkPrefillAndCachedDecoding,
  relativeError,
  TEXT_CONFIG_VARIANTS,
  tinyVariant,
  variantPrompt,
} from '../text/text-graph-test-harness';
import type { WriteTextGraphsOptions } from '../text/write-text-graphs';

/**
 * The optimized profile's options and the config corners the named shapes do not reach: option-A
 * consumers (GQA over the producer's present), the transposed-copy lm_head, no KV sharing with a
 * single layer type and no softcap, all-full layers with 2 AltUp streams, 6 streams with active
 * stream 2, and embedding tables streamed through readRows. Each is prefilled past the window
 * (a vision hard token at position 5), checked against the reference, then decoded with the cache.
 */

/** Writes the optimized graphs, checks prefill vs the reference and cached decoding vs the prefill; returns the prefill logits. */
async function checkOptimized(
  config: Gemma3nConfig,
  weights: TensorSource,
  reference: InMemoryTensorSource,
  options: WriteTextGraphsOptions,
  inspectDecoder?: (proto: ReturnType<typeof onnx.ModelProto.decode>) => void,
): Promise<Float32Array> {
  return checkPrefillAndCachedDecoding({
    config,
    weights,
    reference,
    options: { ...options, graph: 'optimized' },
    prompt: variantPrompt(config, 5),
    inspect: async (directory) => inspectDecoder?.(onnx.ModelProto.decode(await readFile(join(directory, 'decoder_model_merged.onnx')))),
  });
}

describe('optimized profile options', () => {
  it.each(['tiny-window-4', 'tiny-gqa-4to1'] as const)('option-A consumers (GQA over the producer present) equal the reference on %s', async (shape) => {
    const { config, weights } = tinyVariant(shape);
    const optionA = await checkOptimized(config, weights, weights, { consumerAttention: 'group-query-attention' });
    const optionD = await checkOptimized(config, weights, weights, { consumerAttention: 'matmul' });
    expect(relativeError(optionA, optionD)).toBeLessThanOrEqual(1e-5);
  });

  it('the Gemm transB=1 lm_head on the [V, D] table gives the logits of the transposed-copy MatMul', async () => {
    const { config, weights } = tinyVariant('tiny-window-4');
    const copy = await checkOptimized(config, weights, weights, { lmHead: 'matmul-transposed-copy' });
    const shared = await checkOptimized(config, weights, weights, { lmHead: 'gemm-transposed-b' }, (proto) => {
      const gemm = proto.graph!.node!.filter((node) => node.opType === 'Gemm');
      expect(gemm).toHaveLength(1);
      const table = proto.graph!.initializer!.find((tensor) => tensor.name === gemm[0]!.input![1]);
      expect(table!.dims!.map(Number)).toEqual([config.text.vocabSize, config.text.hiddenSize]);
    });
    expect(relativeError(copy, shared)).toBeLessThanOrEqual(1e-6);
  });

  it('streams both embedding tables through readRows (blocks that split the hard-token ranges) with bit-identical logits', async () => {
    const { config, weights } = tinyVariant('tiny-gqa-4to1');
    const tables = (name: string) => name.endsWith('embed_tokens.weight') || name.endsWith('embed_tokens_per_layer.weight');
    const source = new RowRangeTestSource(weights, tables);
    // 48 floats per row: 4000-byte reads are 20 rows, so blocks start inside the vision (352…400) and audio (400…448) ranges.
    // rowStreamingMinimumBytes 0: the (small) lm_head copy is transposed from row blocks too.
    const streamed = await checkOptimized(config, source, weights, { rowBlockBytes: 4000, rowStreamingMinimumBytes: 0 });
    const whole = await checkOptimized(config, weights, weights, {});
    expect(source.rowReads.some((entry) => entry.startsWith('model.language_model.embed_tokens.weight@340+20'))).toBe(true);
    expect(Array.from(streamed)).toEqual(Array.from(whole));
  });
});

describe.each(TEXT_CONFIG_VARIANTS)('optimized text graphs, %s', (_, edit) => {
  it('prefill equals the reference and cached decoding equals the prefill', async () => {
    const { config, weights } = tinyVariant('tiny-window-4', edit);
    await checkOptimized(config, weights, weights, {});
  });
});
