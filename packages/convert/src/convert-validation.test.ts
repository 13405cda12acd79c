import { ModelFileError, parseGemma3nConfig } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from './checkpoint/random-checkpoint-weights';
import { TINY_TEXT_SHAPES } from './checkpoint/tiny-text-shapes';
import { validateCheckpointTensors } from './convert-validation';
import { InMemoryTensorSource } from './tensor-source';

const raw = TINY_TEXT_SHAPES['tiny-mha-every-5'];
const config = parseGemma3nConfig(raw);

/** The random weights without `drop`, with `extra` added. */
function weightsWith(drop: string[], extra: [string, number[]][] = []): InMemoryTensorSource {
  const full = randomCheckpointWeights(raw, { seed: 1 });
  const source = new InMemoryTensorSource();
  for (const name of full.names()) if (!drop.includes(name)) source.set(name, full.info(name).shape, full.get(name));
  for (const [name, shape] of extra) source.set(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return source;
}

describe('validateCheckpointTensors', () => {
  it('accepts the expected tensors plus extras (tower weights, a tied lm_head of the right shape)', () => {
    const progress: number[] = [];
    validateCheckpointTensors(
      config,
      weightsWith([], [['model.vision_tower.timm_model.conv_stem.conv.weight', [64, 3, 3, 3]], ['lm_head.weight', [336, 64]]]),
      'model.safetensors',
      (done) => progress.push(done),
    );
    expect(progress.at(-1)).toBe(progress.length);
  });

  it('lists every problem at once, with expected shapes, and summarises past twelve', () => {
    const dropped = Array.from({ length: 14 }, (_, layer) => `model.language_model.layers.${layer}.laurel.linear_left.weight`);
    let caught: unknown;
    try {
      validateCheckpointTensors(config, weightsWith(dropped, [['lm_head.weight', [300, 64]]]), 'model.safetensors');
    } catch (error) {
      caught = error;
    }
    expect(ModelFileError.isInstance(caught)).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('(15 of ');
    expect(message).toContain('missing tensor "model.language_model.layers.0.laurel.linear_left.weight" (expected shape [8, 64])');
    expect(message).toContain('… and 3 more');
    expect((caught as ModelFileError).problem).toBe('missing');
  });

  it('reports a wrong lm_head shape', () => {
    expect(() => validateCheckpointTensors(config, weightsWith([], [['lm_head.weight', [300, 64]]]), 'x.safetensors')).toThrow(
      'tensor "lm_head.weight" has shape [300, 64], expected [336, 64]',
    );
  });
});
