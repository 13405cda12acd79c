import { readWeight, type WeightLookup } from '../weight-lookup';
import {
  add,
  averagePool,
  concatChannels,
  conv2dSame,
  featureMap,
  gelu,
  nearestResize,
  rmsNorm2d,
  scaleChannels,
  type FeatureMap,
} from './feature-map';

/*
 * The MobileNetV5 blocks of timm (`_efficientnet_blocks.py`, `attention2d.py`,
 * `mobilenetv5.py`), one pure function each over a CHW feature map. Weights are read by their
 * module path below `model.vision_tower.timm_model.` (architecture doc §6) through `weights`.
 * The block descriptions mirror the converter's architecture data field for field, so the
 * converter's architecture object can be passed in as is. A block's `outChannels` is used as
 * given; the tower rounds it first (timm's `round_channels`), while the expanded width
 * `make_divisible(in · expansion)` is the block's own rule.
 */

export type ReferenceVisionBlockSpec =
  | { kind: 'edge_residual'; kernelSize: number; stride: number; expansionRatio: number; outChannels: number }
  | { kind: 'universal_inverted_residual'; startKernelSize: number; midKernelSize: number; stride: number; expansionRatio: number; outChannels: number }
  | { kind: 'multi_query_attention'; numHeads: number; keyDim: number; valueDim: number; kvStride: number; kvKernelSize: number; outChannels: number };

export interface ReferenceVisionArchitecture {
  imageSize: number;
  inChannels: number;
  stemSize: number;
  stages: readonly (readonly ReferenceVisionBlockSpec[])[];
  msfaIndices: readonly number[];
  msfaOutputResolution: number;
  outChannels: number;
  normEpsilon: number;
}

/** Where a block reads its weights: the lookup, the module path (`blocks.2.9`) and the norm eps. */
export interface BlockWeights {
  weights: WeightLookup;
  /** e.g. `model.vision_tower.timm_model.blocks.2.9.` (with the trailing dot). */
  prefix: string;
  epsilon: number;
}

export const VISION_TOWER_PREFIX = 'model.vision_tower.timm_model.';

/** timm `make_divisible(v, 8)`: nearest multiple of 8, at least 8, not more than 10% below v. */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

function vector(block: BlockWeights, name: string, length: number): Float32Array {
  return readWeight(block.weights, `${block.prefix}${name}`, [length]);
}

/** A conv of the block (`name` is e.g. `conv_exp.weight`), shape [out, in/groups, k, k]. */
function convolve(block: BlockWeights, name: string, input: FeatureMap, outChannels: number, kernelSize: number, stride = 1, groups = 1): FeatureMap {
  const weight = readWeight(block.weights, `${block.prefix}${name}`, [outChannels, input.channels / groups, kernelSize, kernelSize]);
  return conv2dSame(input, weight, outChannels, kernelSize, { stride, groups });
}

/** timm ConvNormAct `{module}.conv` → `{module}.bn` (RmsNorm2d) → GELU if `activate`. */
function convNormAct(block: BlockWeights, module: string, input: FeatureMap, outChannels: number, kernelSize: number, stride: number, groups: number, activate: boolean): FeatureMap {
  const convolved = convolve(block, `${module}.conv.weight`, input, outChannels, kernelSize, stride, groups);
  const normed = rmsNorm2d(convolved, vector(block, `${module}.bn.weight`, outChannels), block.epsilon);
  return activate ? gelu(normed) : normed;
}

/** Stem: Conv 3×3 stride 2 with bias (absent bias = zero), RmsNorm2d, GELU. */
export function stem(block: BlockWeights, input: FeatureMap, outChannels: number): FeatureMap {
  const weight = readWeight(block.weights, `${block.prefix}conv.weight`, [outChannels, input.channels, 3, 3]);
  // The release writes a (zero) stem bias; a checkpoint without one means no bias. A lookup
  // may throw for a name it does not hold, so absence is "throws or returns nothing".
  let bias: Float32Array | null = null;
  try {
    bias = block.weights(`${block.prefix}conv.bias`) ?? null;
  } catch {
    bias = null;
  }
  if (bias !== null) bias = readWeight(block.weights, `${block.prefix}conv.bias`, [outChannels]);
  const convolved = conv2dSame(input, weight, outChannels, 3, { stride: 2, bias });
  return gelu(rmsNorm2d(convolved, vector(block, 'bn.weight', outChannels), block.epsilon));
}

/** EdgeResidual: conv_exp k×k (stride) → bn1 + GELU → conv_pwl 1×1 → bn2; skip if stride 1 and in = out. */
export function edgeResidual(block: BlockWeights, input: FeatureMap, spec: Extract<ReferenceVisionBlockSpec, { kind: 'edge_residual' }>): FeatureMap {
  const out = spec.outChannels;
  const mid = makeDivisible(input.channels * spec.expansionRatio);
  const expanded = convolve(block, 'conv_exp.weight', input, mid, spec.kernelSize, spec.stride);
  const activated = gelu(rmsNorm2d(expanded, vector(block, 'bn1.weight', mid), block.epsilon));
  const projected = rmsNorm2d(convolve(block, 'conv_pwl.weight', activated, out, 1), vector(block, 'bn2.weight', out), block.epsilon);
  return spec.stride === 1 && input.channels === out ? add(projected, input) : projected;
}

export interface UniversalInvertedResidualOptions {
  /** false for the MSFA's FFN (timm: noskip=True, no layer scale). */
  layerScale?: boolean;
  skip?: boolean;
}

/**
 * Universal Inverted Residual: dw_start (depthwise, norm, no act; takes the stride only when
 * there is no dw_mid) → pw_exp (1×1, norm, GELU) → dw_mid (depthwise, norm, GELU, stride) →
 * pw_proj (1×1, norm) → layer_scale γ → skip if stride 1 and in = out.
 */
export function universalInvertedResidual(
  block: BlockWeights,
  input: FeatureMap,
  spec: Extract<ReferenceVisionBlockSpec, { kind: 'universal_inverted_residual' }>,
  options: UniversalInvertedResidualOptions = {},
): FeatureMap {
  const out = spec.outChannels;
  const mid = makeDivisible(input.channels * spec.expansionRatio);
  let x = input;
  if (spec.startKernelSize > 0) {
    const stride = spec.midKernelSize > 0 ? 1 : spec.stride;
    x = convNormAct(block, 'dw_start', x, x.channels, spec.startKernelSize, stride, x.channels, false);
  }
  x = convNormAct(block, 'pw_exp', x, mid, 1, 1, 1, true);
  if (spec.midKernelSize > 0) x = convNormAct(block, 'dw_mid', x, mid, spec.midKernelSize, spec.stride, mid, true);
  x = convNormAct(block, 'pw_proj', x, out, 1, 1, 1, false);
  if (options.layerScale ?? true) x = scaleChannels(x, vector(block, 'layer_scale.gamma', out));
  const skip = (options.skip ?? true) && spec.stride === 1 && input.channels === out;
  return skip ? add(x, input) : x;
}

/**
 * timm MultiQueryAttention2d (no query stride) on an already normalised map: q = 1×1 conv to
 * h·kd channels (channel h·kd + d is head h, dim d); k, v = [depthwise down_conv stride
 * kv_stride → RmsNorm2d] → 1×1 conv to kd / vd channels, one head shared by all query heads;
 * tokens row-major; `softmax(q·kᵀ · kd^-0.5)·v`; output channel h·vd + d → 1×1 output proj.
 */
export function multiQueryAttention2d(block: BlockWeights, input: FeatureMap, spec: Extract<ReferenceVisionBlockSpec, { kind: 'multi_query_attention' }>): FeatureMap {
  const { numHeads, keyDim, valueDim } = spec;
  const query = convolve(block, 'attn.query.proj.weight', input, numHeads * keyDim, 1);
  const keyValue = (branch: 'key' | 'value', width: number): FeatureMap => {
    let source = input;
    if (spec.kvStride > 1) {
      source = convolve(block, `attn.${branch}.down_conv.weight`, source, source.channels, spec.kvKernelSize, spec.kvStride, source.channels);
      source = rmsNorm2d(source, vector(block, `attn.${branch}.norm.weight`, source.channels), block.epsilon);
    }
    return convolve(block, `attn.${branch}.proj.weight`, source, width, 1);
  };
  const key = keyValue('key', keyDim);
  const value = keyValue('value', valueDim);
  const queryTokens = input.height * input.width;
  const keyTokens = key.height * key.width;
  const scale = keyDim ** -0.5;
  const mixed = featureMap(numHeads * valueDim, input.height, input.width);
  const logits = new Float64Array(keyTokens);
  for (let head = 0; head < numHeads; head++) {
    for (let token = 0; token < queryTokens; token++) {
      let largest = -Infinity;
      for (let other = 0; other < keyTokens; other++) {
        let dot = 0;
        for (let dim = 0; dim < keyDim; dim++) dot += query.data[(head * keyDim + dim) * queryTokens + token]! * key.data[dim * keyTokens + other]!;
        logits[other] = dot * scale;
        largest = Math.max(largest, logits[other]!);
      }
      let total = 0;
      for (let other = 0; other < keyTokens; other++) {
        logits[other] = Math.exp(logits[other]! - largest);
        total += logits[other]!;
      }
      for (let dim = 0; dim < valueDim; dim++) {
        let sum = 0;
        for (let other = 0; other < keyTokens; other++) sum += logits[other]! * value.data[dim * keyTokens + other]!;
        mixed.data[(head * valueDim + dim) * queryTokens + token] = sum / total;
      }
    }
  }
  return convolve(block, 'attn.output.proj.weight', mixed, spec.outChannels, 1);
}

/** MobileAttention: `x + γ · MQA(RmsNorm2d(x))` (skip when in = out; MobileNetV5 has no strided attention). */
export function mobileAttention(block: BlockWeights, input: FeatureMap, spec: Extract<ReferenceVisionBlockSpec, { kind: 'multi_query_attention' }>): FeatureMap {
  const normed = rmsNorm2d(input, vector(block, 'norm.weight', input.channels), block.epsilon);
  const out = spec.outChannels;
  const attended = scaleChannels(multiQueryAttention2d(block, normed, spec), vector(block, 'layer_scale.gamma', out));
  return input.channels === out ? add(attended, input) : attended;
}

/**
 * MobileNetV5MultiScaleFusionAdapter: nearest-upsample every smaller input to the first
 * input's size, concatenate on channels, UIR (no dw convs, expansion 2, no skip, no layer
 * scale) to `outChannels`, average-pool (kernel = stride) to `outputResolution`, RmsNorm2d.
 * `block.prefix` is the `msfa.` module path.
 */
export function multiScaleFusion(block: BlockWeights, inputs: readonly FeatureMap[], outChannels: number, outputResolution: number): FeatureMap {
  const high = inputs[0]!;
  const resized = inputs.map((map) => (map.height < high.height || map.width < high.width ? nearestResize(map, high.height, high.width) : map));
  const concatenated = concatChannels(resized);
  const ffn: BlockWeights = { ...block, prefix: `${block.prefix}ffn.` };
  let x = universalInvertedResidual(
    ffn,
    concatenated,
    { kind: 'universal_inverted_residual', startKernelSize: 0, midKernelSize: 0, stride: 1, expansionRatio: 2, outChannels },
    { layerScale: false, skip: false },
  );
  if (high.height !== outputResolution) {
    if (high.height % outputResolution !== 0) throw new RangeError(`msfa: side ${high.height} is not a multiple of ${outputResolution} (bilinear fallback not implemented)`);
    x = averagePool(x, high.height / outputResolution);
  }
  return rmsNorm2d(x, vector(block, 'norm.weight', outChannels), block.epsilon);
}
