import { ConfigError } from '../errors/config-error';
import type { Gemma3nTextConfig, LayerType } from './gemma3n-config-types';

/** How one decoder layer gets its keys and values. */
export interface LayerKvPlan {
  layerIndex: number;
  layerType: LayerType;
  /** True when the layer computes K/V itself and needs its own cache entry. */
  storesKv: boolean;
  /** For a shared (consumer) layer, the producer layer whose K/V it reads; otherwise null. */
  producerLayer: number | null;
  /** The layer whose cache holds this layer's K/V: itself, or its producer. */
  kvSourceLayer: number;
}

export interface KvSharingPlan {
  /** F = L − num_kv_shared_layers: layers at or after F reuse a producer's K/V. */
  firstSharedLayer: number;
  layers: LayerKvPlan[];
  /** The layers that need a KV cache (every non-shared layer), ascending. */
  cacheLayers: number[];
  /** Producer per layer type (the last layer of that type below F), null if none is needed. */
  producers: Record<LayerType, number | null>;
}

/**
 * Works out KV-cache sharing (architecture §1.7): every layer at or after
 * F = L − num_kv_shared_layers reads the K/V of the last layer of its own type below F.
 * Throws a ConfigError when a shared layer's type has no layer below F to produce it.
 */
export function kvSharingPlan(text: Gemma3nTextConfig): KvSharingPlan {
  const layerCount = text.numHiddenLayers;
  const sharedCount = text.numKvSharedLayers;
  if (text.layerTypes.length !== layerCount) {
    throw new ConfigError({
      field: 'text_config.layer_types',
      value: text.layerTypes,
      expected: `a list of ${layerCount} layer types (num_hidden_layers)`,
    });
  }
  if (!Number.isInteger(sharedCount) || sharedCount < 0 || sharedCount >= layerCount) {
    throw new ConfigError({
      field: 'text_config.num_kv_shared_layers',
      value: sharedCount,
      expected: `an integer in [0, ${layerCount}) (num_hidden_layers = ${layerCount})`,
    });
  }
  const firstSharedLayer = layerCount - sharedCount;

  const producers: Record<LayerType, number | null> = { sliding_attention: null, full_attention: null };
  const lastBelowFirstShared: Record<LayerType, number | null> = { sliding_attention: null, full_attention: null };
  for (let layer = 0; layer < firstSharedLayer; layer++) {
    lastBelowFirstShared[text.layerTypes[layer] as LayerType] = layer;
  }

  const layers: LayerKvPlan[] = text.layerTypes.map((layerType, layerIndex) => {
    if (layerIndex < firstSharedLayer) {
      return { layerIndex, layerType, storesKv: true, producerLayer: null, kvSourceLayer: layerIndex };
    }
    const producer = lastBelowFirstShared[layerType];
    if (producer === null) {
      throw new ConfigError({
        field: `text_config.layer_types[${layerIndex}]`,
        value: layerType,
        expected:
          `a layer type that also occurs below the first shared layer ${firstSharedLayer} ` +
          `(layer ${layerIndex} shares K/V, but no earlier ${layerType} layer produces it; ` +
          'lower num_kv_shared_layers or change layer_types)',
      });
    }
    producers[layerType] = producer;
    return { layerIndex, layerType, storesKv: false, producerLayer: producer, kvSourceLayer: producer };
  });

  const cacheLayers = layers.filter((layer) => layer.storesKv).map((layer) => layer.layerIndex);
  return { firstSharedLayer, layers, cacheLayers, producers };
}
