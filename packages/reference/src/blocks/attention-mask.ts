import type { LayerType } from '@gemma3n/core';

/**
 * Whether query position `queryPosition` may attend key position `keyPosition` (§1.6): full
 * layers are causal (k ≤ q); sliding layers also need q − W < k, so a query sees W keys
 * including itself. Confirmed in HF `masking_utils`: `causal_mask_function` is `kv_idx <= q_idx`
 * and `sliding_window_overlay` is `kv_idx > q_idx - sliding_window`.
 */
export function isKeyVisible(layerType: LayerType, queryPosition: number, keyPosition: number, slidingWindow: number): boolean {
  if (keyPosition > queryPosition) return false;
  if (layerType === 'sliding_attention') return keyPosition > queryPosition - slidingWindow;
  return true;
}
