import { geluTanh } from '../blocks/activations';

/**
 * One image's feature map, channels-first (CHW, row-major): value (c, y, x) at
 * `data[(c·height + y)·width + x]`. The batch is handled by calling the blocks per image.
 */
export interface FeatureMap {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

export function featureMap(channels: number, height: number, width: number, data?: Float32Array): FeatureMap {
  const length = channels * height * width;
  if (data !== undefined && data.length !== length) {
    throw new RangeError(`a ${channels}×${height}×${width} feature map needs ${length} values, got ${data.length}`);
  }
  return { channels, height, width, data: data ?? new Float32Array(length) };
}

/**
 * TF SAME padding of one axis, `[before, after]`: total = max((⌈n/s⌉ − 1)·s + k − n, 0),
 * before = ⌊total/2⌋ (so stride-2 convs put the odd pixel after, bottom/right).
 */
export function samePadding(size: number, kernelSize: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernelSize - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export interface Conv2dOptions {
  stride?: number;
  /** 1 = dense; = channels for depthwise. */
  groups?: number;
  bias?: Float32Array | null;
}

/**
 * Conv2d with TF SAME padding (timm `padding='same'`: static k//2 pads when stride 1 and k odd,
 * dynamic `pad_same` otherwise; both equal `samePadding`). `weight` is PyTorch
 * [out, in/groups, k, k]; zero padding; no dilation. Accumulates in float64.
 */
export function conv2dSame(input: FeatureMap, weight: Float32Array, outChannels: number, kernelSize: number, options: Conv2dOptions = {}): FeatureMap {
  const stride = options.stride ?? 1;
  const groups = options.groups ?? 1;
  const { channels, height, width, data } = input;
  if (channels % groups !== 0 || outChannels % groups !== 0) {
    throw new RangeError(`conv2d: ${channels} in and ${outChannels} out channels do not split into ${groups} groups`);
  }
  const inPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  if (weight.length !== outChannels * inPerGroup * kernelSize * kernelSize) {
    throw new RangeError(`conv2d: weight has ${weight.length} values, expected [${outChannels}, ${inPerGroup}, ${kernelSize}, ${kernelSize}]`);
  }
  const [top] = samePadding(height, kernelSize, stride);
  const [left] = samePadding(width, kernelSize, stride);
  const outHeight = Math.ceil(height / stride);
  const outWidth = Math.ceil(width / stride);
  const output = featureMap(outChannels, outHeight, outWidth);
  for (let out = 0; out < outChannels; out++) {
    const firstIn = Math.floor(out / outPerGroup) * inPerGroup;
    const bias = options.bias ? options.bias[out]! : 0;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        let sum = 0;
        for (let ic = 0; ic < inPerGroup; ic++) {
          const plane = (firstIn + ic) * height * width;
          const kernel = ((out * inPerGroup + ic) * kernelSize) * kernelSize;
          for (let ky = 0; ky < kernelSize; ky++) {
            const y = oy * stride + ky - top;
            if (y < 0 || y >= height) continue;
            for (let kx = 0; kx < kernelSize; kx++) {
              const x = ox * stride + kx - left;
              if (x < 0 || x >= width) continue;
              sum += data[plane + y * width + x]! * weight[kernel + ky * kernelSize + kx]!;
            }
          }
        }
        output.data[(out * outHeight + oy) * outWidth + ox] = sum + bias;
      }
    }
  }
  return output;
}

/** timm RmsNorm2d: at every pixel, `x · rsqrt(mean over channels of x² + eps) · w[c]`. */
export function rmsNorm2d(input: FeatureMap, weight: Float32Array, epsilon: number): FeatureMap {
  const { channels, height, width, data } = input;
  const plane = height * width;
  const output = featureMap(channels, height, width);
  for (let pixel = 0; pixel < plane; pixel++) {
    let sumOfSquares = 0;
    for (let channel = 0; channel < channels; channel++) sumOfSquares += data[channel * plane + pixel]! ** 2;
    const inverseRms = 1 / Math.sqrt(sumOfSquares / channels + epsilon);
    for (let channel = 0; channel < channels; channel++) {
      output.data[channel * plane + pixel] = data[channel * plane + pixel]! * inverseRms * weight[channel]!;
    }
  }
  return output;
}

/** Element-wise GELU (tanh approximation), the activation of every MobileNetV5 block. */
export function gelu(input: FeatureMap): FeatureMap {
  return { ...input, data: input.data.map(geluTanh) };
}

export function add(first: FeatureMap, second: FeatureMap): FeatureMap {
  if (first.data.length !== second.data.length) throw new RangeError('add: feature maps of different shapes');
  return { ...first, data: first.data.map((value, index) => value + second.data[index]!) };
}

/** `x[c] · γ[c]` (timm LayerScale2d). */
export function scaleChannels(input: FeatureMap, gamma: Float32Array): FeatureMap {
  const plane = input.height * input.width;
  return { ...input, data: input.data.map((value, index) => value * gamma[Math.floor(index / plane)]!) };
}

/** PyTorch `F.interpolate(mode='nearest', size=(h, w))`: output (y, x) reads input (⌊y·H/h⌋, ⌊x·W/w⌋). */
export function nearestResize(input: FeatureMap, outHeight: number, outWidth: number): FeatureMap {
  const output = featureMap(input.channels, outHeight, outWidth);
  for (let channel = 0; channel < input.channels; channel++) {
    for (let y = 0; y < outHeight; y++) {
      const sourceY = Math.min(Math.floor((y * input.height) / outHeight), input.height - 1);
      for (let x = 0; x < outWidth; x++) {
        const sourceX = Math.min(Math.floor((x * input.width) / outWidth), input.width - 1);
        output.data[(channel * outHeight + y) * outWidth + x] = input.data[(channel * input.height + sourceY) * input.width + sourceX]!;
      }
    }
  }
  return output;
}

/** `F.avg_pool2d(kernel_size=k, stride=k)` without padding (the side must be a multiple of k). */
export function averagePool(input: FeatureMap, kernelSize: number): FeatureMap {
  if (input.height % kernelSize !== 0 || input.width % kernelSize !== 0) {
    throw new RangeError(`averagePool: ${input.height}×${input.width} is not a multiple of ${kernelSize}`);
  }
  const outHeight = input.height / kernelSize;
  const outWidth = input.width / kernelSize;
  const output = featureMap(input.channels, outHeight, outWidth);
  for (let channel = 0; channel < input.channels; channel++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        let sum = 0;
        for (let ky = 0; ky < kernelSize; ky++) {
          for (let kx = 0; kx < kernelSize; kx++) {
            sum += input.data[(channel * input.height + oy * kernelSize + ky) * input.width + ox * kernelSize + kx]!;
          }
        }
        output.data[(channel * outHeight + oy) * outWidth + ox] = sum / (kernelSize * kernelSize);
      }
    }
  }
  return output;
}

/** Channel-wise concatenation (`torch.cat(dim=1)`) of maps of one spatial size. */
export function concatChannels(maps: readonly FeatureMap[]): FeatureMap {
  const first = maps[0]!;
  if (maps.some((map) => map.height !== first.height || map.width !== first.width)) {
    throw new RangeError('concatChannels: feature maps of different spatial sizes');
  }
  const channels = maps.reduce((sum, map) => sum + map.channels, 0);
  const output = featureMap(channels, first.height, first.width);
  let offset = 0;
  for (const map of maps) {
    output.data.set(map.data, offset);
    offset += map.data.length;
  }
  return output;
}
