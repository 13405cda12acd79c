import { linear } from '../blocks/linear';
import { rmsNorm } from '../blocks/rms-norm';
import { readWeight, type WeightLookup } from '../weight-lookup';
import { audioLocalAttention, type AudioAttentionWeights } from './audio-attention';
import { audioTowerPrefix, type AudioEncoderDimensions, fixedAudioNormEpsilon } from './audio-encoder-dimensions';

/*
 * One conformer block (§4.2), checked against HF `Gemma3nAudioConformerBlock` and its parts.
 * Activations are `[T, hidden]` row-major. HF clamps to ±gradient_clipping (1e10) in several
 * places; no finite activation of a working model gets near that, so the clamps are left out.
 */

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function silu(x: number): number {
  return x * sigmoid(x);
}

/** Row-wise `x · Wᵀ` for `[frames, inFeatures]` input and a `[out, in]` weight. */
function linearRows(weight: Float32Array, input: Float32Array, frames: number, inFeatures: number, outFeatures: number): Float32Array {
  const output = new Float32Array(frames * outFeatures);
  for (let frame = 0; frame < frames; frame++) {
    output.set(linear(weight, input, inFeatures, outFeatures, frame * inFeatures), frame * outFeatures);
  }
  return output;
}

/** GLU over the last axis of `[frames, 2·width]`: `a · sigmoid(b)`, a the first half, b the second. */
export function glu(input: Float32Array, frames: number, width: number): Float32Array {
  const output = new Float32Array(frames * width);
  for (let frame = 0; frame < frames; frame++) {
    for (let index = 0; index < width; index++) {
      output[frame * width + index] = input[frame * 2 * width + index]! * sigmoid(input[frame * 2 * width + width + index]!);
    }
  }
  return output;
}

/**
 * Causal depthwise Conv1d over time: `y[t, c] = Σ_j w[c, j] · x[t − (K − 1) + j, c]` with zeros
 * before frame 0 (HF pads K − 1 frames on the left only). `weight` is `[channels, 1, K]`.
 */
export function causalDepthwiseConv1d(input: Float32Array, weight: Float32Array, frames: number, channels: number, kernelSize: number): Float32Array {
  const output = new Float32Array(frames * channels);
  for (let frame = 0; frame < frames; frame++) {
    for (let channel = 0; channel < channels; channel++) {
      let sum = 0;
      for (let tap = 0; tap < kernelSize; tap++) {
        const source = frame - (kernelSize - 1) + tap;
        if (source >= 0) sum += weight[channel * kernelSize + tap]! * input[source * channels + channel]!;
      }
      output[frame * channels + channel] = sum;
    }
  }
  return output;
}

function addScaled(base: Float32Array, addition: Float32Array, scale: number): Float32Array {
  return base.map((value, index) => value + scale * addition[index]!);
}

export interface FeedForwardWeights {
  preNorm: Float32Array;
  up: Float32Array; // ffw_layer_1 [4·hidden, hidden]
  down: Float32Array; // ffw_layer_2 [hidden, 4·hidden]
  postNorm: Float32Array;
}

/** `x + residual_weight · RMSNorm_post(W2 · silu(W1 · RMSNorm_pre(x)))`, norms with eps 1e-6. */
export function conformerFeedForward(dimensions: AudioEncoderDimensions, weights: FeedForwardWeights, input: Float32Array, frames: number): Float32Array {
  const hidden = dimensions.hiddenSize;
  const normed = rmsNorm(input, weights.preNorm, fixedAudioNormEpsilon, hidden);
  const activated = linearRows(weights.up, normed, frames, hidden, 4 * hidden).map(silu);
  const projected = linearRows(weights.down, activated, frames, 4 * hidden, hidden);
  return addScaled(input, rmsNorm(projected, weights.postNorm, fixedAudioNormEpsilon, hidden), dimensions.residualWeight);
}

export interface LightConvWeights {
  preNorm: Float32Array;
  linearStart: Float32Array; // [2·hidden, hidden]
  depthwise: Float32Array; // [hidden, 1, K]
  convNorm: Float32Array;
  linearEnd: Float32Array; // [hidden, hidden]
}

/** `x + linear_end(silu(RMSNorm_conv(DWConv_causal(GLU(linear_start(RMSNorm_pre(x)))))))`, norms with rms_norm_eps. */
export function lightConv1d(dimensions: AudioEncoderDimensions, weights: LightConvWeights, input: Float32Array, frames: number): Float32Array {
  const hidden = dimensions.hiddenSize;
  const normed = rmsNorm(input, weights.preNorm, dimensions.lightConvNormEpsilon, hidden);
  const gated = glu(linearRows(weights.linearStart, normed, frames, hidden, 2 * hidden), frames, hidden);
  const convolved = causalDepthwiseConv1d(gated, weights.depthwise, frames, hidden, dimensions.convKernelSize);
  const activated = rmsNorm(convolved, weights.convNorm, dimensions.lightConvNormEpsilon, hidden).map(silu);
  return addScaled(input, linearRows(weights.linearEnd, activated, frames, hidden, hidden), 1);
}

export interface ConformerBlockWeights {
  feedForwardStart: FeedForwardWeights;
  attentionPreNorm: Float32Array;
  attention: AudioAttentionWeights;
  attentionPost: Float32Array; // [hidden, hidden]
  attentionPostNorm: Float32Array;
  lightConv: LightConvWeights;
  feedForwardEnd: FeedForwardWeights;
  norm: Float32Array;
}

/** The weights of conformer block `layer`, by their checkpoint names (§6), shape-checked. */
export function readConformerBlockWeights(dimensions: AudioEncoderDimensions, weights: WeightLookup, layer: number): ConformerBlockWeights {
  const hidden = dimensions.hiddenSize;
  const prefix = `${audioTowerPrefix}conformer.${layer}.`;
  const read = (suffix: string, shape: number[]) => readWeight(weights, `${prefix}${suffix}`, shape);
  const feedForward = (name: string): FeedForwardWeights => ({
    preNorm: read(`${name}.pre_layer_norm.weight`, [hidden]),
    up: read(`${name}.ffw_layer_1.weight`, [4 * hidden, hidden]),
    down: read(`${name}.ffw_layer_2.weight`, [hidden, 4 * hidden]),
    postNorm: read(`${name}.post_layer_norm.weight`, [hidden]),
  });
  return {
    feedForwardStart: feedForward('ffw_layer_start'),
    attentionPreNorm: read('attention.pre_attn_norm.weight', [hidden]),
    attention: {
      queryProjection: read('attention.attn.q_proj.weight', [hidden, hidden]),
      keyProjection: read('attention.attn.k_proj.weight', [hidden, hidden]),
      valueProjection: read('attention.attn.v_proj.weight', [hidden, hidden]),
      perDimScale: read('attention.attn.per_dim_scale', [dimensions.headDim]),
      posProjection: read('attention.attn.relative_position_embedding.pos_proj.weight', [hidden, hidden]),
    },
    attentionPost: read('attention.post.weight', [hidden, hidden]),
    attentionPostNorm: read('attention.post_norm.weight', [hidden]),
    lightConv: {
      preNorm: read('lconv1d.pre_layer_norm.weight', [hidden]),
      linearStart: read('lconv1d.linear_start.weight', [2 * hidden, hidden]),
      depthwise: read('lconv1d.depthwise_conv1d.weight', [hidden, 1, dimensions.convKernelSize]),
      convNorm: read('lconv1d.conv_norm.weight', [hidden]),
      linearEnd: read('lconv1d.linear_end.weight', [hidden, hidden]),
    },
    feedForwardEnd: feedForward('ffw_layer_end'),
    norm: read('norm.weight', [hidden]),
  };
}

/**
 * ffw_start → attention (+ residual) → zero invalid rows → light conv → ffw_end → norm.
 * `valid[t]` is 1 for a valid frame.
 */
export function conformerBlock(
  dimensions: AudioEncoderDimensions,
  weights: ConformerBlockWeights,
  input: Float32Array,
  valid: Uint8Array,
  frames: number,
): Float32Array {
  const hidden = dimensions.hiddenSize;
  let x = conformerFeedForward(dimensions, weights.feedForwardStart, input, frames);
  const normed = rmsNorm(x, weights.attentionPreNorm, fixedAudioNormEpsilon, hidden);
  const context = audioLocalAttention(dimensions, weights.attention, normed, valid, frames);
  const attended = rmsNorm(linearRows(weights.attentionPost, context, frames, hidden, hidden), weights.attentionPostNorm, fixedAudioNormEpsilon, hidden);
  x = addScaled(x, attended, 1);
  // HF zeroes invalid frames before the light conv, so they never leak into later frames.
  for (let frame = 0; frame < frames; frame++) if (!valid[frame]) x.fill(0, frame * hidden, (frame + 1) * hidden);
  x = lightConv1d(dimensions, weights.lightConv, x, frames);
  x = conformerFeedForward(dimensions, weights.feedForwardEnd, x, frames);
  return rmsNorm(x, weights.norm, fixedAudioNormEpsilon, hidden);
}
