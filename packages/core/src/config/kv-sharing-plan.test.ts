import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error';
import type { Gemma3nTextConfig, LayerType } from './gemma3n-config-types';
import { kvSharingPlan } from './kv-sharing-plan';
import { parseGemma3nConfig } from './parse-gemma3n-config';

function textConfig(layerTypes: LayerType[], numKvSharedLayers: number): Gemma3nTextConfig {
  return {
    ...parseGemma3nConfig({ model_type: 'gemma3n' }).text,
    numHiddenLayers: layerTypes.length,
    layerTypes,
    numKvSharedLayers,
  };
}

const sliding: LayerType = 'sliding_attention';
const full: LayerType = 'full_attention';

describe('kvSharingPlan', () => {
  it('shares E2B layers 20–23 and 25–28 from 18, and 24 and 29 from 19', () => {
    const plan = kvSharingPlan(parseGemma3nConfig({ model_type: 'gemma3n' }).text);
    expect(plan.firstSharedLayer).toBe(20);
    expect(plan.cacheLayers).toEqual(Array.from({ length: 20 }, (_, layer) => layer));
    expect(plan.producers).toEqual({ sliding_attention: 18, full_attention: 19 });
    const sources = plan.layers.slice(20).map((layer) => layer.producerLayer);
    expect(sources).toEqual([18, 18, 18, 18, 19, 18, 18, 18, 18, 19]);
    expect(plan.layers[24]).toEqual({
      layerIndex: 24,
      layerType: full,
      storesKv: false,
      producerLayer: 19,
      kvSourceLayer: 19,
    });
    expect(plan.layers[7]).toEqual({ layerIndex: 7, layerType: sliding, storesKv: true, producerLayer: null, kvSourceLayer: 7 });
  });

  it('shares E4B layers 20–34 from 18 and 19', () => {
    const text = parseGemma3nConfig({ model_type: 'gemma3n', text_config: { num_hidden_layers: 35, num_kv_shared_layers: 15 } }).text;
    const plan = kvSharingPlan(text);
    expect(plan.cacheLayers).toHaveLength(20);
    const fullConsumers = plan.layers.filter((layer) => layer.producerLayer === 19).map((layer) => layer.layerIndex);
    expect(fullConsumers).toEqual([24, 29, 34]);
  });

  it('handles small configs', () => {
    const alternating = kvSharingPlan(textConfig([sliding, full, sliding, full], 2));
    expect(alternating.layers.map((layer) => layer.kvSourceLayer)).toEqual([0, 1, 0, 1]);
    expect(alternating.cacheLayers).toEqual([0, 1]);

    // Only sliding layers are shared: no full producer is needed, so none is recorded.
    const slidingOnly = kvSharingPlan(textConfig([full, sliding, sliding, sliding, sliding], 2));
    expect(slidingOnly.layers.map((layer) => layer.kvSourceLayer)).toEqual([0, 1, 2, 2, 2]);
    expect(slidingOnly.producers).toEqual({ sliding_attention: 2, full_attention: null });

    const unshared = kvSharingPlan(textConfig([sliding, sliding, full], 0));
    expect(unshared.cacheLayers).toEqual([0, 1, 2]);
    expect(unshared.layers.every((layer) => layer.storesKv)).toBe(true);
  });

  it('throws a ConfigError when a shared layer type has no producer', () => {
    expect(() => kvSharingPlan(textConfig([sliding, sliding, sliding, full], 1))).toThrow(ConfigError);
    expect(() => kvSharingPlan(textConfig([sliding, sliding, sliding, full], 1))).toThrow(/text_config\.layer_types\[3\]/);
    expect(() => kvSharingPlan(textConfig([sliding, sliding], 2))).toThrow(/num_kv_shared_layers/);
  });
});
