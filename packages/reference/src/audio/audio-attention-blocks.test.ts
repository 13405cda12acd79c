import { describe, expect, it } from 'vitest';
import { linear } from '../blocks/linear';
import { audioLocalAttention, audioQueryScale, relativePositionEmbeddings } from './audio-attention';
import { audioEncoderDimensions, type AudioEncoderDimensions } from './audio-encoder-dimensions';
import { tinyAudioConfig, tinyAudioFeatures, tinyAudioWeights } from './audio-test-support';
import { readConformerBlockWeights } from './conformer-block';
import type { AudioAttentionWeights } from './audio-attention';

/**
 * HF's block formulation of the same attention, step by step as `Gemma3nAudioAttention.forward`
 * does it: query blocks of W, key/value contexts of C = W + L + R frames cut from the sequence
 * padded by L before and R + W − 1 after, the [W, C] lower/upper causal mask, the position
 * term computed per relative index f (distance L − f) and moved into place by the
 * pad-to-C+1 / flatten / cut-W·C / reshape "relative shift". Written independently of
 * `audioLocalAttention` (which works per query over the band) to check that the band, the
 * distance sign and the no-valid-key case agree with HF's layout.
 */
function hfBlockAttention(dimensions: AudioEncoderDimensions, weights: AudioAttentionWeights, input: Float32Array, valid: Uint8Array, frames: number): Float32Array {
  const { hiddenSize: D, headCount: N, headDim: H, chunkSize: W, maxPastHorizon: L, maxFutureHorizon: R, logitCap } = dimensions;
  const C = W + L + R;
  const F = L + R + 1;
  const U = Math.ceil(frames / W);
  const project = (weight: Float32Array) => {
    const out = new Float32Array(frames * D);
    for (let t = 0; t < frames; t++) out.set(linear(weight, input, D, D, t * D), t * D);
    return out;
  };
  const scale = audioQueryScale(weights.perDimScale, H);
  const q = project(weights.queryProjection).map((value, index) => value * scale[index % H]!);
  const k = project(weights.keyProjection);
  const v = project(weights.valueProjection);
  const embeddings = relativePositionEmbeddings(dimensions, weights.posProjection);
  const sinEmbedding = Array.from({ length: F }, (_, f) => embeddings.get(L - f)!); // pos_indices = [L, …, −R]
  const contextFrame = (u: number, c: number) => u * W + c - L; // unfold of the padded sequence
  const lowestFloat32 = -3.4028234663852886e38;
  const output = new Float32Array(frames * D);
  for (let n = 0; n < N; n++) {
    for (let u = 0; u < U; u++) {
      // term_bd before the shift: [W, F], padded with zeros to [W, C + 1], flattened.
      const padded = new Float64Array(W * (C + 1));
      for (let w = 0; w < W; w++) {
        const query = u * W + w;
        for (let f = 0; f < F; f++) {
          let dot = 0;
          if (query < frames) for (let h = 0; h < H; h++) dot += q[query * D + n * H + h]! * sinEmbedding[f]![n * H + h]!;
          padded[w * (C + 1) + f] = dot;
        }
      }
      for (let w = 0; w < W; w++) {
        const query = u * W + w;
        if (query >= frames) continue;
        const logits = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          const key = contextFrame(u, c);
          let content = 0;
          if (key >= 0 && key < frames) for (let h = 0; h < H; h++) content += q[query * D + n * H + h]! * k[key * D + n * H + h]!;
          const shifted = padded[w * C + c]!; // first W·C of the flattened [W, C + 1], read as [W, C]
          const capped = logitCap * Math.tanh((content + shifted) / logitCap);
          const allowed = c >= w && c <= w + L + R && key >= 0 && key < frames && valid[key] === 1;
          logits[c] = allowed ? capped : lowestFloat32;
        }
        const maximum = Math.max(...logits);
        const exponentials = logits.map((logit) => Math.exp(logit - maximum));
        const total = exponentials.reduce((sum, value) => sum + value, 0);
        for (let c = 0; c < C; c++) {
          const key = contextFrame(u, c);
          if (key < 0 || key >= frames) continue; // padded context slots hold zero values
          for (let h = 0; h < H; h++) output[query * D + n * H + h]! += (exponentials[c]! / total) * v[key * D + n * H + h]!;
        }
      }
    }
  }
  return output;
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  const magnitude = Math.max(...Array.from(expected, Math.abs));
  const difference = Math.max(...Array.from(actual, (value, index) => Math.abs(value - expected[index]!)));
  expect(difference / magnitude).toBeLessThan(1e-6);
}

describe('audioLocalAttention equals HF\'s block formulation', () => {
  const cases = [
    { name: 'release window (chunk 12, left 13, right 0)', overrides: {} },
    { name: 'right context (chunk 4, left 5, right 2)', overrides: { conf_attention_chunk_size: 4, conf_attention_context_left: 5, conf_attention_context_right: 2 } },
  ];
  for (const { name, overrides } of cases) {
    it(name, () => {
      const config = tinyAudioConfig(overrides);
      const dimensions = audioEncoderDimensions(config);
      const block = readConformerBlockWeights(dimensions, tinyAudioWeights(config, 9), 0);
      const frames = 43; // not a multiple of either chunk size
      const input = tinyAudioFeatures(frames, dimensions.hiddenSize, 8).map((value) => value / 3);
      // Frames 10–29 invalid: queries 23–29 (release window) see no valid key at all.
      const valid = Uint8Array.from({ length: frames }, (_, frame) => (frame >= 10 && frame < 30 ? 0 : 1));
      const ours = audioLocalAttention(dimensions, block.attention, input, valid, frames);
      expectClose(ours, hfBlockAttention(dimensions, block.attention, input, valid, frames));
      // The relative term matters: dropping it (zero pos_proj) changes the result.
      const withoutPositions = { ...block.attention, posProjection: new Float32Array(block.attention.posProjection.length) };
      const plain = audioLocalAttention(dimensions, withoutPositions, input, valid, frames);
      expect(Math.max(...Array.from(plain, (value, index) => Math.abs(value - ours[index]!)))).toBeGreaterThan(1e-3);
    });
  }
});
