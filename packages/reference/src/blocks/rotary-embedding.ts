import type { Gemma3nTextConfig } from '@gemma3n/core';

/*
 * Rotary position embedding of §1.6, rotate-half style over all head_dim values. Confirmed in
 * HF (`Gemma3nRotaryEmbedding.compute_default_rope_parameters`, `apply_rotary_pos_emb`):
 * `inv_freq_j = 1 / θ^(2j / hd)` for j = 0..hd/2−1, `emb = [pos·inv_freq, pos·inv_freq]`,
 * `x·cos(emb) + rotate_half(x)·sin(emb)`, attention_scaling 1 for the default rope type. HF
 * computes the angles in float32; this reference computes them in float64.
 */

/** `rotate_half(x) = [−x[hd/2:], x[:hd/2]]` over one head vector. */
export function rotateHalf(vector: Float32Array): Float32Array {
  const half = vector.length / 2;
  const output = new Float32Array(vector.length);
  for (let index = 0; index < half; index++) {
    output[index] = -vector[half + index]!;
    output[half + index] = vector[index]!;
  }
  return output;
}

/** `θ^(−2j/hd)` for j = 0..hd/2−1. */
export function ropeInverseFrequencies(theta: number, headDim: number): Float64Array {
  const frequencies = new Float64Array(headDim / 2);
  for (let index = 0; index < headDim / 2; index++) frequencies[index] = 1 / Math.pow(theta, (2 * index) / headDim);
  return frequencies;
}

/**
 * Rotates the head vector `values[offset .. offset + hd)` in place for 0-based `position`.
 * Written out per pair (j, j + hd/2), which is what `x·cos + rotate_half(x)·sin` does with the
 * angle repeated over both halves.
 */
export function applyRope(values: Float32Array, offset: number, headDim: number, position: number, inverseFrequencies: Float64Array): void {
  const half = headDim / 2;
  for (let index = 0; index < half; index++) {
    const angle = position * inverseFrequencies[index]!;
    const cosine = Math.cos(angle);
    const sine = Math.sin(angle);
    const first = values[offset + index]!;
    const second = values[offset + half + index]!;
    values[offset + index] = first * cosine - second * sine;
    values[offset + half + index] = second * cosine + first * sine;
  }
}

/** θ of a layer: rope_theta on full-attention layers, rope_local_base_freq on sliding ones. */
export function ropeThetaForLayer(config: Gemma3nTextConfig, layerIndex: number): number {
  return config.layerTypes[layerIndex] === 'sliding_attention' ? config.ropeLocalBaseFreq : config.ropeTheta;
}
