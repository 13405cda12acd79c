import { ConfigError, kvSharingPlan } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../test-support/tiny-model';
import { firstKvSharedLayerIndex, isKvSharedLayer, kvSourceLayerIndex } from './kv-sharing';

function layout(layerCount: number, sharedCount: number) {
  return tinyConfig({ numHiddenLayers: layerCount, numKvSharedLayers: sharedCount }).text;
}

describe('KV sharing (§1.7)', () => {
  it('E2B layout: 20–23, 25–28 read layer 18; 24, 29 read layer 19; the rest their own', () => {
    const e2b = layout(30, 10);
    expect(firstKvSharedLayerIndex(e2b)).toBe(20);
    const sources = Array.from({ length: 30 }, (_, layer) => kvSourceLayerIndex(e2b, layer));
    const expected = Array.from({ length: 30 }, (_, layer) => {
      if (layer < 20) return layer;
      return layer === 24 || layer === 29 ? 19 : 18;
    });
    expect(sources).toEqual(expected);
  });

  it('E4B layout: layer 34 (full) reads 19, 30–33 read 18', () => {
    const e4b = layout(35, 15);
    expect(kvSourceLayerIndex(e4b, 34)).toBe(19);
    expect([30, 31, 32, 33].map((layer) => kvSourceLayerIndex(e4b, layer))).toEqual([18, 18, 18, 18]);
  });

  it('no sharing with 0 shared layers, nor when F ≤ 0 (HF: layer_idx >= F > 0)', () => {
    for (const config of [layout(6, 0), layout(6, 6)]) {
      expect(Array.from({ length: 6 }, (_, layer) => isKvSharedLayer(config, layer))).toEqual(Array(6).fill(false));
    }
  });

  it('fails clearly when a consumer has no producer of its type below F', () => {
    // Layers 0–2 sliding, layer 4 full and shared: there is no full layer below F = 3.
    const config = layout(6, 3);
    expect(() => kvSourceLayerIndex(config, 4)).toThrow(ConfigError);
    expect(kvSourceLayerIndex(config, 3)).toBe(2);
  });

  it('agrees with the plan @gemma3n/core gives the runtime, on every valid layout tried', () => {
    for (const [layerCount, sharedCount] of [[30, 10], [35, 15], [10, 3], [6, 1], [6, 0], [12, 4]] as const) {
      const config = layout(layerCount, sharedCount);
      const plan = kvSharingPlan(config);
      expect(plan.layers.map((layer) => layer.kvSourceLayer)).toEqual(Array.from({ length: layerCount }, (_, layer) => kvSourceLayerIndex(config, layer)));
    }
  });
});
