import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import { buildAttentionMasks } from './attention-masks';

async function masksFor(attentionMask: number[][], sequenceLength: number, slidingWindow: number) {
  const directory = await mkdtemp(join(tmpdir(), 'masks-'));
  try {
    await writeOnnxModel({ directory, fileName: 'masks.onnx' }, (graph) => {
      const embeds = graph.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', 1]);
      const mask = graph.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
      const masks = buildAttentionMasks(graph, embeds, mask, { needFull: true, needSliding: true, slidingWindow });
      graph.output(masks.full!, 'full', 'bool', ['batch_size', 1, 1, 'sequence_length', 'total_sequence_length']);
      graph.output(masks.sliding!, 'sliding', 'bool', ['batch_size', 1, 1, 'sequence_length', 'window_keys']);
      graph.output(masks.slidingKeyStart!, 'sliding_key_start', 'int64', [1]);
    });
    const session = await ort.InferenceSession.create(join(directory, 'masks.onnx'));
    const batch = attentionMask.length;
    const total = attentionMask[0]!.length;
    const outputs = await session.run({
      inputs_embeds: new ort.Tensor('float32', new Float32Array(batch * sequenceLength), [batch, sequenceLength, 1]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(attentionMask.flat(), BigInt), [batch, total]),
    });
    await session.release();
    const asRows = (tensor: ort.Tensor) => {
      const keys = tensor.dims[4]!;
      const values = Array.from(tensor.data as Uint8Array, (value) => (value ? 1 : 0));
      return Array.from({ length: batch * sequenceLength }, (_, row) => values.slice(row * keys, (row + 1) * keys).join(''));
    };
    return {
      full: asRows(outputs.full as ort.Tensor),
      sliding: asRows(outputs.sliding as ort.Tensor),
      slidingKeyStart: Number((outputs.sliding_key_start!.data as BigInt64Array)[0]),
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

describe('buildAttentionMasks', () => {
  it('prefill: causal for full layers, W keys including the current one for sliding layers, padding removed', async () => {
    // Batch 0: 5 real tokens. Batch 1: 2 left-padding positions, then 3 tokens. W = 2.
    const { full, sliding, slidingKeyStart } = await masksFor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], 5, 2);
    expect(slidingKeyStart).toBe(0);
    expect(full).toEqual(['10000', '11000', '11100', '11110', '11111', '00000', '00000', '00100', '00110', '00111']);
    expect(sliding).toEqual(['10000', '11000', '01100', '00110', '00011', '00000', '00000', '00100', '00110', '00011']);
  });

  it('decode: one new query at cache index T − 1 sees the last W keys, and only those are scored', async () => {
    const { full, sliding, slidingKeyStart } = await masksFor([[1, 1, 1, 1, 1, 1, 1]], 1, 3);
    expect(full).toEqual(['1111111']);
    // Keys 4, 5, 6 of 7: the sliding mask covers cache indices from slidingKeyStart on.
    expect(slidingKeyStart).toBe(4);
    expect(sliding).toEqual(['111']);
  });

  it('chunked prefill: two new queries after four cached positions', async () => {
    const { full, sliding, slidingKeyStart } = await masksFor([[0, 1, 1, 1, 1, 1]], 2, 4);
    expect(full).toEqual(['011110', '011111']);
    // Queries at cache indices 4 and 5 with W = 4 see keys 1..4 and 2..5: scored from key 1.
    expect(slidingKeyStart).toBe(1);
    expect(sliding).toEqual(['11110', '01111']);
  });
});
