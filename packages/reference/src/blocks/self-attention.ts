import type { Gemma3nTextConfig } from '@gemma3n/core';
import { isKeyVisible } from './attention-mask';
import { linear } from './linear';
import { rmsNorm } from './rms-norm';
import { applyRope, ropeInverseFrequencies, ropeThetaForLayer } from './rotary-embedding';

/** K and V of one layer over the whole sequence, after k_norm/v_norm and RoPE on K (§1.7). */
export interface LayerKeyValues {
  keys: Float32Array; // [T, Hkv, hd]
  values: Float32Array; // [T, Hkv, hd]
}

/**
 * Rows `[T, heads·hd]` of `projection · x_t`, each head normalised over hd by `norm` (null:
 * no scale, v_norm) and, when `ropeFrequencies` is given, rotated for position t (0-based,
 * consecutive, §1.6).
 */
function projectHeads(
  normedInput: Float32Array,
  sequenceLength: number,
  hiddenSize: number,
  projection: Float32Array,
  headCount: number,
  headDim: number,
  norm: Float32Array | null,
  epsilon: number,
  ropeFrequencies: Float64Array | null,
): Float32Array {
  const width = headCount * headDim;
  const output = new Float32Array(sequenceLength * width);
  for (let position = 0; position < sequenceLength; position++) {
    const heads = rmsNorm(linear(projection, normedInput, hiddenSize, width, position * hiddenSize), norm, epsilon, headDim);
    if (ropeFrequencies !== null) {
      for (let head = 0; head < headCount; head++) applyRope(heads, head * headDim, headDim, position, ropeFrequencies);
    }
    output.set(heads, position * width);
  }
  return output;
}

/** This layer's own K (k_proj → k_norm → RoPE) and V (v_proj → v_norm without scale, no RoPE). */
export function computeKeyValues(
  config: Gemma3nTextConfig,
  layerIndex: number,
  normedInput: Float32Array,
  sequenceLength: number,
  keyProjection: Float32Array,
  valueProjection: Float32Array,
  keyNorm: Float32Array,
): LayerKeyValues {
  const { hiddenSize, numKeyValueHeads, headDim, rmsNormEps } = config;
  const frequencies = ropeInverseFrequencies(ropeThetaForLayer(config, layerIndex), headDim);
  return {
    keys: projectHeads(normedInput, sequenceLength, hiddenSize, keyProjection, numKeyValueHeads, headDim, keyNorm, rmsNormEps, frequencies),
    values: projectHeads(normedInput, sequenceLength, hiddenSize, valueProjection, numKeyValueHeads, headDim, null, rmsNormEps, null),
  };
}

/**
 * Self-attention of §1.6 over the sequence: q = RoPE(q_norm(q_proj x)); scores = q·kᵀ·1.0
 * (HF `self.scaling = 1.0`: no 1/sqrt(hd); HF passes no softcap, so `attnLogitSoftcapping` is
 * ignored even when the config sets it); the layer's
 * causal or sliding mask; fp32-or-better softmax; GQA with query head h on KV head
 * ⌊h / (H/Hkv)⌋ (HF `repeat_kv`); o_proj. `keyValues` is this layer's own K/V or, on a KV-shared
 * layer, its producer's. Returns `[T, D]`.
 */
export function selfAttention(
  config: Gemma3nTextConfig,
  layerIndex: number,
  normedInput: Float32Array,
  sequenceLength: number,
  queryProjection: Float32Array,
  queryNorm: Float32Array,
  outputProjection: Float32Array,
  keyValues: LayerKeyValues,
): Float32Array {
  const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim, rmsNormEps, slidingWindow } = config;
  const layerType = config.layerTypes[layerIndex]!;
  const frequencies = ropeInverseFrequencies(ropeThetaForLayer(config, layerIndex), headDim);
  const queries = projectHeads(normedInput, sequenceLength, hiddenSize, queryProjection, numAttentionHeads, headDim, queryNorm, rmsNormEps, frequencies);
  const groupSize = numAttentionHeads / numKeyValueHeads;
  const queryWidth = numAttentionHeads * headDim;
  const keyValueWidth = numKeyValueHeads * headDim;
  const output = new Float32Array(sequenceLength * hiddenSize);
  const scores = new Float64Array(sequenceLength);
  const attended = new Float32Array(queryWidth);
  for (let queryPosition = 0; queryPosition < sequenceLength; queryPosition++) {
    for (let head = 0; head < numAttentionHeads; head++) {
      const queryOffset = queryPosition * queryWidth + head * headDim;
      const keyValueHead = Math.floor(head / groupSize);
      let maximum = -Infinity;
      for (let keyPosition = 0; keyPosition < sequenceLength; keyPosition++) {
        if (!isKeyVisible(layerType, queryPosition, keyPosition, slidingWindow)) {
          scores[keyPosition] = -Infinity;
          continue;
        }
        const keyOffset = keyPosition * keyValueWidth + keyValueHead * headDim;
        let dot = 0;
        for (let index = 0; index < headDim; index++) dot += queries[queryOffset + index]! * keyValues.keys[keyOffset + index]!;
        scores[keyPosition] = dot;
        maximum = Math.max(maximum, dot);
      }
      let total = 0;
      for (let keyPosition = 0; keyPosition < sequenceLength; keyPosition++) {
        const weight = scores[keyPosition] === -Infinity ? 0 : Math.exp(scores[keyPosition]! - maximum);
        scores[keyPosition] = weight;
        total += weight;
      }
      for (let index = 0; index < headDim; index++) {
        let sum = 0;
        for (let keyPosition = 0; keyPosition <= queryPosition; keyPosition++) {
          const weight = scores[keyPosition]!;
          if (weight !== 0) sum += weight * keyValues.values[keyPosition * keyValueWidth + keyValueHead * headDim + index]!;
        }
        attended[head * headDim + index] = sum / total;
      }
    }
    output.set(linear(outputProjection, attended, queryWidth, hiddenSize), queryPosition * hiddenSize);
  }
  return output;
}
