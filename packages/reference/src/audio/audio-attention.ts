import { linear } from '../blocks/linear';
import type { AudioEncoderDimensions } from './audio-encoder-dimensions';

/*
 * Chunked local self-attention of the audio conformer (§4.2 "Local attention"), checked against
 * HF `Gemma3nAudioAttention` and `Gemma3nAudioRelativePositionEmbedding`. HF cuts the sequence
 * into blocks of chunk_size queries, each seeing a context of chunk + max_past + max_future
 * keys, and masks that context down to `q − max_past ≤ k ≤ q + max_future`; the visible set of
 * each query is therefore a plain band, which is what is written here query by query.
 */

/** `softplus(x) = ln(1 + eˣ)`, written to stay finite for large x. */
export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/**
 * The per-dimension query scale: `head_dim^-0.5 / softplus(0) · softplus(per_dim_scale[i])`.
 * With per_dim_scale = 0 (the initial value) it is plain `head_dim^-0.5`.
 */
export function audioQueryScale(perDimScale: Float32Array, headDim: number): Float64Array {
  const base = headDim ** -0.5 / softplus(0);
  return Float64Array.from(perDimScale, (value) => base * softplus(value));
}

/**
 * Sinusoidal timing signal of a relative distance, `[sin(d·inv_i)…, cos(d·inv_i)…]` with
 * `inv_i = exp(−i·ln(10⁴) / max(channels/2 − 1, 1))`, i = 0 … channels/2 − 1.
 */
export function relativePositionTimingSignal(distance: number, channels: number): Float64Array {
  const timescales = Math.floor(channels / 2);
  const increment = Math.log(1e4) / Math.max(timescales - 1, 1);
  const signal = new Float64Array(2 * timescales);
  for (let index = 0; index < timescales; index++) {
    const scaled = distance * Math.exp(-index * increment);
    signal[index] = Math.sin(scaled);
    signal[timescales + index] = Math.cos(scaled);
  }
  return signal;
}

/**
 * `R[d] = pos_proj(timing(d))` for every distance d = q − k the window allows, from max_past
 * down to −max_future; each entry is `[heads · head_dim]`. `posProjection` is `[N·H, hidden]`.
 */
export function relativePositionEmbeddings(dimensions: AudioEncoderDimensions, posProjection: Float32Array): Map<number, Float32Array> {
  const embeddings = new Map<number, Float32Array>();
  for (let distance = dimensions.maxPastHorizon; distance >= -dimensions.maxFutureHorizon; distance--) {
    const signal = Float32Array.from(relativePositionTimingSignal(distance, dimensions.hiddenSize));
    embeddings.set(distance, linear(posProjection, signal, dimensions.hiddenSize, dimensions.headCount * dimensions.headDim));
  }
  return embeddings;
}

/** Whether query frame `query` may attend key frame `key` (before the key's validity). */
export function isKeyInAudioContext(dimensions: Pick<AudioEncoderDimensions, 'maxPastHorizon' | 'maxFutureHorizon'>, query: number, key: number): boolean {
  return key >= query - dimensions.maxPastHorizon && key <= query + dimensions.maxFutureHorizon;
}

export interface AudioAttentionWeights {
  queryProjection: Float32Array;
  keyProjection: Float32Array;
  valueProjection: Float32Array;
  perDimScale: Float32Array;
  posProjection: Float32Array;
}

function projectRows(weight: Float32Array, input: Float32Array, frames: number, width: number): Float32Array {
  const output = new Float32Array(frames * width);
  for (let frame = 0; frame < frames; frame++) output.set(linear(weight, input, width, width, frame * width), frame * width);
  return output;
}

/**
 * The attention core on normed input `[T, hidden]`: returns the per-head context vectors
 * flattened to `[T, heads · head_dim]` (before the `post` projection).
 *
 * Logits `q·k + q·R[q − k]`, soft-capped `cap·tanh(logit / cap)`, keys outside the band or
 * invalid masked, fp64 softmax. A query with no visible valid key gets what HF gives it: every
 * slot of its block's context holds finfo.min, so the softmax is uniform over those
 * chunk + max_past + max_future slots, slots before frame 0 or after the end holding zero
 * values. Only invalid queries can be in that case, and the conformer block zeroes their rows
 * right after the attention.
 */
export function audioLocalAttention(
  dimensions: AudioEncoderDimensions,
  weights: AudioAttentionWeights,
  input: Float32Array,
  valid: Uint8Array,
  frames: number,
): Float32Array {
  const { hiddenSize, headCount, headDim, chunkSize, maxPastHorizon, maxFutureHorizon, logitCap } = dimensions;
  const queries = projectRows(weights.queryProjection, input, frames, hiddenSize);
  const keys = projectRows(weights.keyProjection, input, frames, hiddenSize);
  const values = projectRows(weights.valueProjection, input, frames, hiddenSize);
  const queryScale = audioQueryScale(weights.perDimScale, headDim);
  for (let frame = 0; frame < frames; frame++) {
    for (let head = 0; head < headCount; head++) {
      for (let dim = 0; dim < headDim; dim++) queries[frame * hiddenSize + head * headDim + dim]! *= queryScale[dim]!;
    }
  }
  const relative = relativePositionEmbeddings(dimensions, weights.posProjection);
  const contextSize = chunkSize + maxPastHorizon + maxFutureHorizon;
  const output = new Float32Array(frames * hiddenSize);

  for (let query = 0; query < frames; query++) {
    const first = Math.max(0, query - maxPastHorizon);
    const last = Math.min(frames - 1, query + maxFutureHorizon);
    for (let head = 0; head < headCount; head++) {
      const headOffset = head * headDim;
      const queryOffset = query * hiddenSize + headOffset;
      const visibleKeys: number[] = [];
      const logits: number[] = [];
      for (let key = first; key <= last; key++) {
        if (!valid[key]) continue;
        const keyOffset = key * hiddenSize + headOffset;
        const position = relative.get(query - key)!;
        let logit = 0;
        for (let dim = 0; dim < headDim; dim++) {
          logit += queries[queryOffset + dim]! * (keys[keyOffset + dim]! + position[headOffset + dim]!);
        }
        visibleKeys.push(key);
        logits.push(logitCap * Math.tanh(logit / logitCap));
      }
      const target = output.subarray(queryOffset, queryOffset + headDim);
      if (visibleKeys.length === 0) {
        const blockStart = Math.floor(query / chunkSize) * chunkSize - maxPastHorizon;
        for (let slot = 0; slot < contextSize; slot++) {
          const key = blockStart + slot;
          if (key < 0 || key >= frames) continue;
          for (let dim = 0; dim < headDim; dim++) target[dim]! += values[key * hiddenSize + headOffset + dim]! / contextSize;
        }
        continue;
      }
      const maximum = Math.max(...logits);
      const exponentials = logits.map((logit) => Math.exp(logit - maximum));
      const total = exponentials.reduce((sum, value) => sum + value, 0);
      const accumulator = new Float64Array(headDim);
      visibleKeys.forEach((key, index) => {
        const probability = exponentials[index]! / total;
        for (let dim = 0; dim < headDim; dim++) accumulator[dim]! += probability * values[key * hiddenSize + headOffset + dim]!;
      });
      target.set(accumulator);
    }
  }
  return output;
}
