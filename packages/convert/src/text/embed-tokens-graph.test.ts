import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import { referenceEmbed } from '@gemma3n/reference';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { TINY_TEXT_SHAPES } from '../checkpoint/tiny-text-shapes';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import { buildEmbedTokensGraph } from './embed-tokens-graph';
import { RowRangeTestSource } from './row-range-test-source';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'embed-tokens-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('buildEmbedTokensGraph', () => {
  it('streams the embedding tables through readRows and still equals referenceEmbed', async () => {
    const raw = TINY_TEXT_SHAPES['tiny-real-vocab'];
    const config = parseGemma3nConfig(raw);
    const weights = randomCheckpointWeights(raw, { seed: 3 });
    const tables = ['model.language_model.embed_tokens.weight', 'model.language_model.embed_tokens_per_layer.weight'];
    const source = new RowRangeTestSource(weights, (name) => tables.includes(name));
    await writeOnnxModel({ directory, fileName: 'embed_tokens.onnx' }, (graph) => buildEmbedTokensGraph(config, source, graph));
    // 262144 rows × 36 floats is 37.7 MB: one 64 MiB block each; the big tables were never read whole.
    expect(source.rowReads).toEqual([
      `${tables[0]}@0+262400`,
      'model.embed_vision.embedding.weight@0+128',
      'model.embed_audio.embedding.weight@0+128',
      `${tables[1]}@0+262144`,
    ]);

    // Text ids, the last base id, the first/last vision and audio ids (hard tokens), the pad id.
    const ids = [2, 105, 262143, 262144, 262271, 262272, 262399, 0, 4000];
    const session = await ort.InferenceSession.create(join(directory, 'embed_tokens.onnx'));
    const outputs = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) });
    await session.release();
    const reference = referenceEmbed(config, (name) => weights.get(name), ids);
    const compare = (actual: Float32Array, expected: Float32Array) => {
      let difference = 0;
      let magnitude = 0;
      for (let index = 0; index < expected.length; index++) {
        difference = Math.max(difference, Math.abs(actual[index]! - expected[index]!));
        magnitude = Math.max(magnitude, Math.abs(expected[index]!));
      }
      return difference / magnitude;
    };
    expect(compare(outputs.inputs_embeds!.data as Float32Array, reference.inputsEmbeds)).toBeLessThan(1e-6);
    expect(compare(outputs.per_layer_inputs!.data as Float32Array, reference.perLayerInputs)).toBeLessThan(1e-6);
    // Hard-token rows are not the (pad-copy) text rows: position 3 (vision) differs from position 7 (pad).
    const hidden = config.text.hiddenSize;
    const embeds = outputs.inputs_embeds!.data as Float32Array;
    expect(embeds.subarray(3 * hidden, 4 * hidden)).not.toEqual(embeds.subarray(7 * hidden, 8 * hidden));
    // ids ≥ vocab_size_per_layer_input take PLE row 0, exactly like the pad id 0.
    const width = config.text.numHiddenLayers * config.text.hiddenSizePerLayerInput;
    const perLayer = outputs.per_layer_inputs!.data as Float32Array;
    for (const position of [3, 4, 5, 6]) expect(perLayer.subarray(position * width, (position + 1) * width)).toEqual(perLayer.subarray(7 * width, 8 * width));
  });

  it('names the missing tensor and the expected shape', async () => {
    const raw = TINY_TEXT_SHAPES['tiny-window-4'];
    const config = parseGemma3nConfig(raw);
    const weights = randomCheckpointWeights(raw, { seed: 3 });
    const broken = new RowRangeTestSource(weights, () => false);
    const original = broken.has.bind(broken);
    broken.has = (name) => name !== 'model.embed_audio.embedding.weight' && original(name);
    await expect(
      writeOnnxModel({ directory, fileName: 'embed_tokens.onnx' }, (graph) => buildEmbedTokensGraph(config, broken, graph)),
    ).rejects.toThrow('checkpoint tensor model.embed_audio.embedding.weight is missing (expected shape [32, 24])');
  });
});
