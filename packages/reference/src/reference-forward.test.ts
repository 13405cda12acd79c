import { describe, expect, it } from 'vitest';
import { referenceEmbed } from './embedding/reference-embed';
import { referenceForward } from './reference-forward';
import { tinyConfig, tinyWeights } from './test-support/tiny-model';

describe('referenceForward with the released vocabulary layout', () => {
  // V = 262400, PLE table 262144 rows, vision ids [262144, 262272), audio ids [262272, 262400), D = 64.
  const config = tinyConfig(
    { hiddenSize: 64, numHiddenLayers: 5, numKvSharedLayers: 0, hiddenSizePerLayerInput: 8 },
    { vision: 262144, audio: 262272, modalitySize: 128 },
  );
  const weights = tinyWeights(config, 42);

  it('runs in seconds: only the lm_head touches every vocabulary row', () => {
    // <bos>, text, <end_of_image> (vision hard), <image_soft_token>, <end_of_audio> (audio hard), last audio id.
    const ids = [2, 105, 262144, 262145, 262272, 262399];
    const started = performance.now();
    const logits = referenceForward(config, weights.lookup, ids);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(5000);
    expect(logits).toHaveLength(ids.length * 262400);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('maps multimodal ids to PLE row 0 and embeds them through their embedder', () => {
    const { inputsEmbeds, perLayerInputs } = referenceEmbed(config, weights.lookup, [0, 262143, 262144, 262399]);
    const width = 5 * 8;
    const row = (tensor: Float32Array, position: number, size: number) => Array.from(tensor.subarray(position * size, (position + 1) * size));
    expect(row(perLayerInputs, 2, width)).toEqual(row(perLayerInputs, 0, width));
    expect(row(perLayerInputs, 3, width)).toEqual(row(perLayerInputs, 0, width));
    expect(row(perLayerInputs, 1, width)).not.toEqual(row(perLayerInputs, 0, width));
    // Hard tokens come out of a norm without scale: unit RMS, unlike these text rows (mean square ≈ 0.85).
    const meanSquare = (values: number[]) => values.reduce((sum, value) => sum + value * value, 0) / values.length;
    expect(meanSquare(row(inputsEmbeds, 2, 64))).toBeCloseTo(1, 4);
    expect(meanSquare(row(inputsEmbeds, 3, 64))).toBeCloseTo(1, 4);
    expect(meanSquare(row(inputsEmbeds, 1, 64))).not.toBeCloseTo(1, 1);
  });
});
