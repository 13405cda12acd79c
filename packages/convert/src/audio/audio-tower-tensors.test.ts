import { parseGemma3nConfig } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { audioGraphDimensions, expectedAudioTowerTensors } from './audio-tower-tensors';
import { randomAudioTowerWeights } from './random-audio-weights';

// The release audio config is the parser's default (architecture doc §4.2).
const release = parseGemma3nConfig({ model_type: 'gemma3n', audio_config: { model_type: 'gemma3n_audio' } });

describe('expectedAudioTowerTensors', () => {
  const shapes = new Map(expectedAudioTowerTensors(release).map((tensor) => [tensor.name, tensor.shape]));
  it('lists the §6 names with the E2B shapes', () => {
    const tower = 'model.audio_tower.';
    expect(shapes.get(`${tower}subsample_conv_projection.conv_0.conv.weight`)).toEqual([128, 1, 3, 3]);
    expect(shapes.get(`${tower}subsample_conv_projection.conv_1.conv.weight`)).toEqual([32, 128, 3, 3]);
    expect(shapes.get(`${tower}subsample_conv_projection.conv_1.norm.weight`)).toEqual([32]);
    expect(shapes.get(`${tower}subsample_conv_projection.input_proj_linear.weight`)).toEqual([1536, 1024]);
    expect(shapes.get(`${tower}conformer.11.ffw_layer_start.ffw_layer_1.weight`)).toEqual([6144, 1536]);
    expect(shapes.get(`${tower}conformer.11.ffw_layer_end.ffw_layer_2.weight`)).toEqual([1536, 6144]);
    expect(shapes.get(`${tower}conformer.0.attention.attn.per_dim_scale`)).toEqual([192]);
    expect(shapes.get(`${tower}conformer.0.attention.attn.relative_position_embedding.pos_proj.weight`)).toEqual([1536, 1536]);
    expect(shapes.get(`${tower}conformer.0.lconv1d.linear_start.weight`)).toEqual([3072, 1536]);
    expect(shapes.get(`${tower}conformer.0.lconv1d.depthwise_conv1d.weight`)).toEqual([1536, 1, 5]);
    expect(shapes.get(`${tower}conformer.0.norm.weight`)).toEqual([1536]);
    expect(shapes.size).toBe(5 + 12 * 22);
    expect(shapes.has(`${tower}conformer.12.norm.weight`)).toBe(false);
  });
  it('derives the release sizes', () => {
    const dimensions = audioGraphDimensions(release);
    expect([dimensions.headDim, dimensions.convOutputFrequencies, dimensions.projectionInputSize]).toEqual([192, [64, 32], 1024]);
    expect([dimensions.maxPastHorizon, dimensions.maxFutureHorizon, dimensions.residualWeight]).toEqual([12, 0, 0.5]);
  });
});

describe('randomAudioTowerWeights', () => {
  const tiny = parseGemma3nConfig({
    model_type: 'gemma3n',
    audio_config: { model_type: 'gemma3n_audio', hidden_size: 16, conf_num_attention_heads: 2, conf_num_hidden_layers: 1, sscp_conv_channel_size: [4, 2] },
  });
  it('is deterministic per (seed, name) and spreads norms around 1 and linear weights as 1/sqrt(fan-in)', () => {
    const first = randomAudioTowerWeights(tiny, { seed: 3 });
    const again = randomAudioTowerWeights(tiny, { seed: 3 });
    const other = randomAudioTowerWeights(tiny, { seed: 4 });
    const name = 'model.audio_tower.conformer.0.attention.attn.q_proj.weight';
    expect(Array.from(again.get(name))).toEqual(Array.from(first.get(name)));
    expect(Array.from(other.get(name))).not.toEqual(Array.from(first.get(name)));
    expect(first.names().length).toBe(expectedAudioTowerTensors(tiny).length);
    const norm = first.get('model.audio_tower.conformer.0.norm.weight');
    expect(norm.every((value) => value > 0.5 && value < 1.5)).toBe(true);
    const ffw = first.get('model.audio_tower.conformer.0.ffw_layer_end.ffw_layer_2.weight'); // fan-in 64
    const variance = ffw.reduce((sum, value) => sum + value * value, 0) / ffw.length;
    expect(variance).toBeGreaterThan(0.8 / 64);
    expect(variance).toBeLessThan(1.2 / 64);
  });
});
