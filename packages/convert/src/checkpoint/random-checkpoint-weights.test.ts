import { kvSharingPlan, parseGemma3nConfig } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { float32ToBfloat16Bits } from '../safetensors/float-conversions';
import { expectedCheckpointTensors } from './expected-checkpoint-tensors';
import { randomCheckpointWeights } from './random-checkpoint-weights';
import { TINY_SHAPE_NAMES, TINY_TEXT_SHAPES, tinyShapeConfig } from './tiny-text-shapes';

function meanAndDeviation(values: Float32Array): { mean: number; deviation: number } {
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return { mean, deviation: Math.sqrt(squares / values.length) };
}

describe('TINY_TEXT_SHAPES', () => {
  it.each(TINY_SHAPE_NAMES)('%s parses and shares KV with ≥ 2 consumers of each layer type', (name) => {
    const config = parseGemma3nConfig(TINY_TEXT_SHAPES[name]);
    const plan = kvSharingPlan(config.text);
    const consumers = plan.layers.filter((layer) => layer.producerLayer !== null);
    expect(consumers.filter((layer) => layer.layerType === 'full_attention').length).toBeGreaterThanOrEqual(2);
    expect(consumers.filter((layer) => layer.layerType === 'sliding_attention').length).toBeGreaterThanOrEqual(2);
    expect(config.text.slidingWindow).toBeLessThanOrEqual(8);
    expect(config.text.activationSparsityPattern[0]).toBe(0.95);
    expect(config.text.activationSparsityPattern.at(-1)).toBe(0);
    expect(new Set(config.text.intermediateSize).size).toBeGreaterThan(1);
    // Hard-token ranges: vision right after the base vocabulary, audio after vision, ending at vocab_size.
    expect(config.vision?.vocabOffset).toBe(config.text.vocabSizePerLayerInput);
    expect(config.audio?.vocabOffset).toBe(config.text.vocabSizePerLayerInput + (config.vision?.vocabSize ?? 0));
    expect((config.audio?.vocabOffset ?? 0) + (config.audio?.vocabSize ?? 0)).toBe(config.text.vocabSize);
    expect(config.imageTokenId).toBe(config.eoiTokenId + 1);
    expect(config.audioTokenId).toBe(config.eoaTokenId + 1);
  });

  it('covers several head layouts and keeps the tiny vocabularies small', () => {
    const layouts = new Set<string>();
    for (const name of TINY_SHAPE_NAMES) {
      const { text } = parseGemma3nConfig(TINY_TEXT_SHAPES[name]);
      layouts.add(`${text.numAttentionHeads}/${text.numKeyValueHeads}/${text.headDim}`);
      if (name !== 'tiny-real-vocab') {
        expect(text.vocabSize).toBeLessThan(600);
        expect(text.hiddenSize).toBeGreaterThanOrEqual(32);
        expect(text.hiddenSize).toBeLessThanOrEqual(64);
      }
    }
    expect(layouts.size).toBeGreaterThanOrEqual(3);
  });

  it('tiny-real-vocab has the real vocabulary and special ids', () => {
    const config = parseGemma3nConfig(TINY_TEXT_SHAPES['tiny-real-vocab']);
    expect(config.text.vocabSize).toBe(262_400);
    expect(config.text.vocabSizePerLayerInput).toBe(262_144);
    expect([config.boiTokenId, config.boaTokenId, config.eoiTokenId, config.imageTokenId]).toEqual([255_999, 256_000, 262_144, 262_145]);
    expect([config.eoaTokenId, config.audioTokenId]).toEqual([262_272, 262_273]);
    expect(config.text.eosTokenId).toEqual([1, 106]);
  });

  it('tinyShapeConfig returns a copy', () => {
    const copy = tinyShapeConfig('tiny-window-4');
    (copy.text_config as Record<string, unknown>).hidden_size = 999;
    expect((TINY_TEXT_SHAPES['tiny-window-4'].text_config as Record<string, unknown>).hidden_size).toBe(32);
  });
});

describe('randomCheckpointWeights', () => {
  const raw = TINY_TEXT_SHAPES['tiny-gqa-4to1'];
  const config = parseGemma3nConfig(raw);
  const weights = randomCheckpointWeights(raw, { seed: 7 });

  it('holds exactly the expected tensors with their shapes', () => {
    const expected = expectedCheckpointTensors(config);
    expect(weights.names().sort()).toEqual(expected.map((tensor) => tensor.name).sort());
    for (const tensor of expected) expect(weights.info(tensor.name).shape).toEqual(tensor.shape);
  });

  it('is deterministic in the seed and differs between seeds', () => {
    const again = randomCheckpointWeights(raw, { seed: 7 });
    const other = randomCheckpointWeights(raw, { seed: 8 });
    const name = 'model.language_model.layers.3.mlp.gate_proj.weight';
    expect(again.get(name)).toEqual(weights.get(name));
    expect(other.get(name)[0]).not.toBe(weights.get(name)[0]);
  });

  it('draws norms around 1 and Linear weights with standard deviation 1/sqrt(fan_in)', () => {
    const norm = meanAndDeviation(weights.get('model.language_model.layers.0.input_layernorm.weight'));
    expect(Math.abs(norm.mean - 1)).toBeLessThan(0.05);
    expect(norm.deviation).toBeGreaterThan(0.05);
    expect(norm.deviation).toBeLessThan(0.15);
    // The final norm is around 4: with tied embeddings it sets the logit spread (see the source).
    const finalNorm = meanAndDeviation(weights.get('model.language_model.norm.weight'));
    expect(Math.abs(finalNorm.mean - 4)).toBeLessThan(0.3);
    // down_proj of layer 5 is [48, 160]: fan-in 160.
    const linear = meanAndDeviation(weights.get('model.language_model.layers.5.mlp.down_proj.weight'));
    expect(Math.abs(linear.mean)).toBeLessThan(0.01);
    expect(linear.deviation).toBeCloseTo(1 / Math.sqrt(160), 2);
  });

  it('copies the pad row into every embed_tokens row at or above vocab_size_per_layer_input', () => {
    const embedding = weights.get('model.language_model.embed_tokens.weight');
    const width = config.text.hiddenSize;
    const padRow = embedding.subarray(0, width);
    for (const row of [352, 353, 400, 447]) {
      expect(embedding.subarray(row * width, (row + 1) * width)).toEqual(padRow);
    }
    expect(embedding.subarray(351 * width, 352 * width)).not.toEqual(padRow);
  });

  it('rounds to bfloat16-representable values when asked', () => {
    const rounded = randomCheckpointWeights(raw, { seed: 7, dtype: 'BF16' });
    const name = 'model.language_model.altup_projections.0.weight';
    const exact = weights.get(name);
    const values = rounded.get(name);
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    expect(bits.every((word) => (word & 0xffff) === 0)).toBe(true);
    expect(bits[0]).toBe(float32ToBfloat16Bits(exact[0] as number) << 16);
  });

  it('adds lm_head.weight as a copy of embed_tokens on request', () => {
    const withHead = randomCheckpointWeights(raw, { seed: 7, includeLmHead: true });
    expect(withHead.get('lm_head.weight')).toEqual(weights.get('model.language_model.embed_tokens.weight'));
  });
});
