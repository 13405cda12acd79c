import { linear } from '../blocks/linear';
import { readWeight, type WeightLookup } from '../weight-lookup';
import { audioTowerPrefix, type AudioEncoderDimensions, subsampledFrameCount } from './audio-encoder-dimensions';

/*
 * The subsampling front end of the audio encoder (§4.2 SSCP), checked against HF
 * `Gemma3nAudioSubSampleConvProjection` / `Gemma3nAudioSSCPConvBlock` /
 * `Gemma3nAudioCumulativeGroupNorm`. Activations are channel-major `[C, T, F]` (one clip, the
 * NCHW layout of HF's Conv2d without the batch axis).
 */

/** A `[channels, frames, frequencies]` activation of one clip. */
export interface SpectrogramMap {
  channels: number;
  frames: number;
  frequencies: number;
  /** Row-major `[channels, frames, frequencies]`. */
  values: Float32Array;
}

/**
 * Conv2d without bias, HF's manual padding: time (0 before, k_t − 1 after, "reverse causal":
 * frame t reads frames s·t … s·t + k_t − 1), frequency (1, 1). `weight` is `[out, in, k_t, k_f]`.
 * Accumulates in float64.
 */
export function subsampleConv2d(
  input: SpectrogramMap,
  weight: Float32Array,
  outChannels: number,
  kernel: readonly [number, number],
  stride: readonly [number, number],
): SpectrogramMap {
  const [kernelTime, kernelFrequency] = kernel;
  const [strideTime, strideFrequency] = stride;
  const frames = subsampledFrameCount(input.frames, kernelTime, strideTime);
  const frequencies = Math.floor((input.frequencies + 2 - kernelFrequency) / strideFrequency) + 1;
  const values = new Float32Array(outChannels * frames * frequencies);
  for (let out = 0; out < outChannels; out++) {
    for (let frame = 0; frame < frames; frame++) {
      for (let frequency = 0; frequency < frequencies; frequency++) {
        let sum = 0;
        for (let inChannel = 0; inChannel < input.channels; inChannel++) {
          for (let kt = 0; kt < kernelTime; kt++) {
            const sourceFrame = frame * strideTime + kt; // top padding is 0
            if (sourceFrame >= input.frames) continue; // bottom zero padding
            for (let kf = 0; kf < kernelFrequency; kf++) {
              const sourceFrequency = frequency * strideFrequency + kf - 1; // left padding 1
              if (sourceFrequency < 0 || sourceFrequency >= input.frequencies) continue;
              const w = weight[((out * input.channels + inChannel) * kernelTime + kt) * kernelFrequency + kf]!;
              sum += w * input.values[(inChannel * input.frames + sourceFrame) * input.frequencies + sourceFrequency]!;
            }
          }
        }
        values[(out * frames + frame) * frequencies + frequency] = sum;
      }
    }
  }
  return { channels: outChannels, frames, frequencies, values };
}

/**
 * CumulativeGroupNorm exactly as HF computes it (no mask: HF passes none). With
 * n_t = (t + 1)·F·C, μ_t = Σ_{s≤t} Σ_{f,c} x_s / n_t and
 * σ²_t = Σ_{s≤t} Σ_{f,c} (x_s − μ_s)² / n_t — each earlier frame's deviation is taken from its
 * own running mean μ_s, which is what HF's cumsum of per-frame squared deviations gives.
 * Output `(x_t − μ_t) / sqrt(σ²_t + eps) · w[c]`.
 */
export function cumulativeGroupNorm(input: SpectrogramMap, weight: Float32Array, epsilon: number): SpectrogramMap {
  const { channels, frames, frequencies } = input;
  const values = new Float32Array(input.values.length);
  const at = (channel: number, frame: number, frequency: number) => (channel * frames + frame) * frequencies + frequency;
  let cumulativeSum = 0;
  let cumulativeSquaredDeviation = 0;
  for (let frame = 0; frame < frames; frame++) {
    for (let channel = 0; channel < channels; channel++) {
      for (let frequency = 0; frequency < frequencies; frequency++) cumulativeSum += input.values[at(channel, frame, frequency)]!;
    }
    const count = (frame + 1) * channels * frequencies;
    const mean = cumulativeSum / count;
    for (let channel = 0; channel < channels; channel++) {
      for (let frequency = 0; frequency < frequencies; frequency++) {
        const deviation = input.values[at(channel, frame, frequency)]! - mean;
        cumulativeSquaredDeviation += deviation * deviation;
      }
    }
    const inverseDeviation = 1 / Math.sqrt(cumulativeSquaredDeviation / count + epsilon);
    for (let channel = 0; channel < channels; channel++) {
      for (let frequency = 0; frequency < frequencies; frequency++) {
        const index = at(channel, frame, frequency);
        values[index] = (input.values[index]! - mean) * inverseDeviation * weight[channel]!;
      }
    }
  }
  return { channels, frames, frequencies, values };
}

function relu(map: SpectrogramMap): SpectrogramMap {
  return { ...map, values: map.values.map((value) => Math.max(0, value)) };
}

/**
 * The whole SSCP: two (conv → cumulative group norm → ReLU) blocks, then the `[T₂, F₂·C₂]`
 * flatten (index f·C + c, HF permutes to [T, F, C] before the view) and input_proj_linear.
 * `features` is `[frames, input_feat_size]`; returns `[T₂, hidden]`.
 */
export function subsampleConvProjection(
  dimensions: AudioEncoderDimensions,
  weights: WeightLookup,
  features: Float32Array,
  frames: number,
): { hidden: Float32Array; frames: number } {
  let map: SpectrogramMap = { channels: 1, frames, frequencies: dimensions.inputFeatureSize, values: features };
  for (let index = 0; index < 2; index++) {
    const prefix = `${audioTowerPrefix}subsample_conv_projection.conv_${index}.`;
    const outChannels = dimensions.convChannels[index]!;
    const [kernelTime, kernelFrequency] = dimensions.convKernels[index]!;
    const convWeight = readWeight(weights, `${prefix}conv.weight`, [outChannels, map.channels, kernelTime, kernelFrequency]);
    const normWeight = readWeight(weights, `${prefix}norm.weight`, [outChannels]);
    const convolved = subsampleConv2d(map, convWeight, outChannels, dimensions.convKernels[index]!, dimensions.convStrides[index]!);
    map = relu(cumulativeGroupNorm(convolved, normWeight, dimensions.groupNormEpsilon));
  }
  const flattened = flattenFrequencyMajor(map);
  const projection = readWeight(weights, `${audioTowerPrefix}subsample_conv_projection.input_proj_linear.weight`, [
    dimensions.hiddenSize,
    dimensions.projectionInputSize,
  ]);
  const hidden = new Float32Array(map.frames * dimensions.hiddenSize);
  for (let frame = 0; frame < map.frames; frame++) {
    hidden.set(
      linear(projection, flattened, dimensions.projectionInputSize, dimensions.hiddenSize, frame * dimensions.projectionInputSize),
      frame * dimensions.hiddenSize,
    );
  }
  return { hidden, frames: map.frames };
}

/** `[C, T, F]` → `[T, F·C]` with element (t, f·C + c). */
export function flattenFrequencyMajor(map: SpectrogramMap): Float32Array {
  const { channels, frames, frequencies } = map;
  const output = new Float32Array(map.values.length);
  for (let channel = 0; channel < channels; channel++) {
    for (let frame = 0; frame < frames; frame++) {
      for (let frequency = 0; frequency < frequencies; frequency++) {
        output[frame * frequencies * channels + frequency * channels + channel] = map.values[(channel * frames + frame) * frequencies + frequency]!;
      }
    }
  }
  return output;
}
