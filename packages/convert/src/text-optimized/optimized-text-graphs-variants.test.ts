import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvSharingPlan, parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { referenceDecoder, referenceEmbed } from '@gemma3n/reference';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { tinyShapeConfig, type TinyShapeName } from '../checkpoint/tiny-text-shapes';
import { onnx } from '../onnx/onnx-proto';
import type { TensorSource } from '../tensor-source';
import { RowRangeTestSource } from '../text/row-range-test-source';
import { writeTextGraphs, type WriteTextGraphsOptions } from '../text/write-text-graphs';

/**
 * The optimized profile's options and the config corners the named shapes do not reach: option-A
 * consumers (GQA over the producer's present), the transposed-copy lm_head, no KV sharing with a
 * single layer type and no softcap, all-full layers with 2 AltUp streams, 6 streams with active
 * stream 2, and embedding tables streamed through readRows. Each is prefilled past the window,
 * checked against the reference, then decoded with the cache.
 */
type Edit = (text: Record<string, unknown>) => void;

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let difference = 0;
  let magnitude = 0;
  for (let index = 0; index < expected.length; index++) {
    const delta = Math.abs(actual[index]! - expected[index]!);
    if (!(delta <= difference)) difference = delta;
    magnitude = Math.max(magnitude, Math.abs(expected[index]!));
  }
  return difference / magnitude;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);

/** Writes the optimized graphs, checks prefill vs the reference and cached decoding vs the prefill; returns the prefill logits. */
async function checkOptimized(
  config: Gemma3nConfig,
  weights: TensorSource,
  reference: TensorSource,
  options: WriteTextGraphsOptions,
  inspectDecoder?: (proto: ReturnType<typeof onnx.ModelProto.decode>) => void,
): Promise<Float32Array> {
  const directory = await mkdtemp(join(tmpdir(), 'optimized-variant-'));
  try {
    await writeTextGraphs(config, weights, directory, { ...options, graph: 'optimized' });
    inspectDecoder?.(onnx.ModelProto.decode(await readFile(join(directory, 'decoder_model_merged.onnx'))));
    const embed = await ort.InferenceSession.create(join(directory, 'embed_tokens.onnx'));
    const decoder = await ort.InferenceSession.create(join(directory, 'decoder_model_merged.onnx'));
    const { text } = config;
    const cacheLayers = kvSharingPlan(text).cacheLayers;
    const prompt = Array.from({ length: 2 * text.slidingWindow + 2 }, (_, index) => (index === 5 ? config.vision!.vocabOffset + 1 : (index * 53 + 7) % text.vocabSizePerLayerInput));
    const vocab = text.vocabSize;
    const run = async (ids: number[], start: number, past: Record<string, ort.Tensor>) => {
      const embedded = await embed.run({ input_ids: int64(ids, [1, ids.length]) });
      return decoder.run({
        inputs_embeds: embedded.inputs_embeds!,
        per_layer_inputs: embedded.per_layer_inputs!,
        attention_mask: int64(Array.from({ length: start + ids.length }, () => 1), [1, start + ids.length]),
        position_ids: int64(ids.map((_, index) => start + index), [1, ids.length]),
        num_logits_to_keep: int64([0], []),
        ...past,
      });
    };
    const emptyPast: Record<string, ort.Tensor> = {};
    for (const layer of cacheLayers) {
      for (const kind of ['key', 'value']) emptyPast[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, text.numKeyValueHeads, 0, text.headDim]);
    }
    const fullLogits = (await run(prompt, 0, emptyPast)).logits!.data as Float32Array;
    const embedded = referenceEmbed(config, (name) => (reference as unknown as { get(name: string): Float32Array }).get(name), prompt);
    const referenceLogits = referenceDecoder(config, (name) => (reference as unknown as { get(name: string): Float32Array }).get(name), embedded.inputsEmbeds, embedded.perLayerInputs, prompt.length);
    expect(relativeError(fullLogits, referenceLogits)).toBeLessThanOrEqual(1e-4);

    let outputs = await run(prompt.slice(0, 2), 0, emptyPast);
    for (let position = 2; position < prompt.length; position++) {
      const past: Record<string, ort.Tensor> = {};
      for (const [name, value] of Object.entries(outputs)) if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = value as ort.Tensor;
      outputs = await run([prompt[position]!], position, past);
      expect(relativeError(outputs.logits!.data as Float32Array, fullLogits.subarray(position * vocab, (position + 1) * vocab))).toBeLessThanOrEqual(1e-4);
    }
    await embed.release();
    await decoder.release();
    return fullLogits;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function tiny(shape: TinyShapeName, edit?: Edit) {
  const raw = tinyShapeConfig(shape);
  edit?.(raw.text_config as Record<string, unknown>);
  return { config: parseGemma3nConfig(raw), weights: randomCheckpointWeights(raw, { seed: 11 }) };
}

describe('optimized profile options', () => {
  it.each(['tiny-window-4', 'tiny-gqa-4to1'] as const)('option-A consumers (GQA over the producer present) equal the reference on %s', async (shape) => {
    const { config, weights } = tiny(shape);
    const optionA = await checkOptimized(config, weights, weights, { consumerAttention: 'group-query-attention' });
    const optionD = await checkOptimized(config, weights, weights, { consumerAttention: 'matmul' });
    expect(relativeError(optionA, optionD)).toBeLessThanOrEqual(1e-5);
  });

  it('the Gemm transB=1 lm_head on the [V, D] table gives the logits of the transposed-copy MatMul', async () => {
    const { config, weights } = tiny('tiny-window-4');
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
    const { config, weights } = tiny('tiny-gqa-4to1');
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

const VARIANTS: [string, Edit][] = [
  [
    'no KV sharing, all sliding, no softcap, no correct_output_scale',
    (text) => {
      text.num_kv_shared_layers = 0;
      text.layer_types = Array.from({ length: 9 }, () => 'sliding_attention');
      text.final_logit_softcapping = null;
      text.altup_correct_scale = false;
    },
  ],
  [
    'all full attention with sharing, sparsity on every layer, 2 AltUp streams',
    (text) => {
      text.layer_types = Array.from({ length: 9 }, () => 'full_attention');
      text.activation_sparsity_pattern = Array.from({ length: 9 }, (_, index) => [0.95, 0.8, 0.5][index % 3]);
      text.altup_num_inputs = 2;
    },
  ],
  [
    '6 AltUp streams with active stream 2',
    (text) => {
      text.altup_num_inputs = 6;
      text.altup_active_idx = 2;
    },
  ],
];

describe.each(VARIANTS)('optimized text graphs, %s', (_, edit) => {
  it('prefill equals the reference and cached decoding equals the prefill', async () => {
    const { config, weights } = tiny('tiny-window-4', edit);
    await checkOptimized(config, weights, weights, {});
  });
});
