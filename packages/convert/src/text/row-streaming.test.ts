import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvSharingPlan, parseGemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { TINY_TEXT_SHAPES } from '../checkpoint/tiny-text-shapes';
import { RowRangeTestSource } from './row-range-test-source';
import { writeTextGraphs } from './write-text-graphs';

/**
 * With a source that reads row ranges and a streaming threshold of 0, every 2-D weight is
 * written from row blocks (tables copied, Linear weights transposed by scattered writes) and
 * none is read whole; the graphs must give bit-identical logits to the ones built from whole reads.
 */
describe('writeTextGraphs with row-range reads', () => {
  const raw = TINY_TEXT_SHAPES['tiny-gqa-4to1'];
  const config = parseGemma3nConfig(raw);
  const weights = randomCheckpointWeights(raw, { seed: 5 });
  const directories: string[] = [];

  beforeAll(async () => {
    for (const name of ['whole', 'rows']) directories.push(await mkdtemp(join(tmpdir(), `row-streaming-${name}-`)));
  });
  afterAll(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('writes identical graphs without reading any matrix whole', async () => {
    const isMatrix = (name: string) => weights.info(name).shape.length === 2 && !name.includes('correction_coefs');
    const source = new RowRangeTestSource(weights, isMatrix);
    await writeTextGraphs(config, weights, directories[0]!);
    // 8000-byte reads: several blocks per tensor and a partial last one (embed_tokens is 448 rows of 48 floats: 41 rows per read).
    await writeTextGraphs(config, source, directories[1]!, { rowStreamingMinimumBytes: 0, rowBlockBytes: 8000 });
    const embedReads = source.rowReads.filter((entry) => entry.startsWith('model.language_model.embed_tokens.weight@'));
    // Read once for embed_tokens.onnx and once for the tied lm_head: 2 × ⌈448 / 41⌉ = 2 × 11.
    expect(embedReads).toHaveLength(22);
    expect(embedReads.at(-1)).toBe('model.language_model.embed_tokens.weight@410+38');

    const prompt = [2, 17, 300, 352, 401, 5, 9, 77, 3, 120, 11, 12];
    const results: Float32Array[] = [];
    for (const directory of directories) {
      const embed = await ort.InferenceSession.create(join(directory, 'embed_tokens.onnx'));
      const decoder = await ort.InferenceSession.create(join(directory, 'decoder_model_merged.onnx'));
      const embedded = await embed.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]) });
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: embedded.inputs_embeds!,
        per_layer_inputs: embedded.per_layer_inputs!,
        attention_mask: new ort.Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(prompt.map((_, index) => BigInt(index))), [1, prompt.length]),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
      };
      for (const layer of kvSharingPlan(config.text).cacheLayers) {
        for (const kind of ['key', 'value']) {
          feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, config.text.numKeyValueHeads, 0, config.text.headDim]);
        }
      }
      results.push((await decoder.run(feeds)).logits!.data as Float32Array);
      await embed.release();
      await decoder.release();
    }
    expect(results[1]).toEqual(results[0]);
  });
});
