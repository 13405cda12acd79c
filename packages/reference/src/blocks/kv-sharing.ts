import { ConfigError, type Gemma3nTextConfig } from '@gemma3n/core';

/*
 * KV-cache sharing of §1.7. Confirmed in HF `Gemma3nTextAttention.__init__`:
 * `first_kv_shared_layer_idx = L − num_kv_shared_layers`; a layer is a consumer iff
 * `layer_idx >= first > 0` (so num_kv_shared_layers ≥ L disables sharing, as does 0); a consumer
 * reads the K/V of the last layer of its own type below `first`. HF shares only when a cache is
 * passed; a runtime always has one, so this reference always shares.
 */

/** F = L − num_kv_shared_layers, the first layer that reads another layer's K/V. */
export function firstKvSharedLayerIndex(config: Gemma3nTextConfig): number {
  return config.numHiddenLayers - config.numKvSharedLayers;
}

/** True when layer `layerIndex` uses a producer's K/V instead of computing its own. */
export function isKvSharedLayer(config: Gemma3nTextConfig, layerIndex: number): boolean {
  const first = firstKvSharedLayerIndex(config);
  return first > 0 && layerIndex >= first;
}

/**
 * The layer whose K and V layer `layerIndex` attends to: itself for a non-shared layer, else the
 * last layer below F of the same type (E2B: 20–23, 25–28 → 18; 24, 29 → 19).
 */
export function kvSourceLayerIndex(config: Gemma3nTextConfig, layerIndex: number): number {
  if (!isKvSharedLayer(config, layerIndex)) return layerIndex;
  const layerType = config.layerTypes[layerIndex];
  for (let candidate = firstKvSharedLayerIndex(config) - 1; candidate >= 0; candidate--) {
    if (config.layerTypes[candidate] === layerType) return candidate;
  }
  throw new ConfigError({
    field: 'text_config.layer_types',
    value: config.layerTypes,
    expected: `a ${layerType} layer below the first KV-shared layer ${firstKvSharedLayerIndex(config)} for layer ${layerIndex} to share`,
  });
}
