import {
  makeDivisible,
  type MobileNetV5Architecture,
  type MobileNetV5BlockSpec,
} from './mobilenet-v5-architecture';

/** One block with everything the builders derive from the spec and its position. */
export interface ResolvedVisionBlock {
  /** `blocks.{stage}.{index}`, the timm module path (checkpoint names add the prefix). */
  path: string;
  stage: number;
  index: number;
  spec: MobileNetV5BlockSpec;
  inChannels: number;
  outChannels: number;
  /** Expanded width (ER / UIR): make_divisible(in · expansion). Equal to inChannels for MQA. */
  midChannels: number;
  /** Square side of the input and output feature maps (TF SAME: out = ⌈in / stride⌉). */
  inSize: number;
  outSize: number;
  hasSkip: boolean;
}

export interface ResolvedMsfa {
  /** The fused features: 0 = stem, s + 1 = stage s. */
  featureIndices: number[];
  inputs: { channels: number; size: number }[];
  inChannels: number;
  midChannels: number;
  outChannels: number;
  /** Side of the largest input; every smaller one is upsampled (nearest) to it. */
  fusedSize: number;
  outputResolution: number;
  /** Average-pool kernel = stride (fusedSize / outputResolution); 1 = no pooling. */
  poolSize: number;
}

export interface ResolvedVisionTower {
  architecture: MobileNetV5Architecture;
  stemChannels: number;
  stemSize: number;
  blocks: ResolvedVisionBlock[];
  msfa: ResolvedMsfa;
  /** Soft tokens per image: outputResolution². */
  tokenCount: number;
}

/** TF SAME output side. */
export function sameOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/**
 * TF SAME padding of one spatial axis, `[before, after]`: total = max((⌈n/s⌉ − 1)·s + k − n, 0),
 * before = ⌊total / 2⌋, the odd pixel after (ONNX `SAME_UPPER`; timm `pad_same`).
 */
export function samePadding(size: number, kernelSize: number, stride: number): [number, number] {
  const total = Math.max((sameOutputSize(size, stride) - 1) * stride + kernelSize - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Channels, sizes, widths and skip rules of every block, as timm's builder derives them. */
export function resolveVisionTower(architecture: MobileNetV5Architecture): ResolvedVisionTower {
  const stemChannels = makeDivisible(architecture.stemSize);
  const stemSize = sameOutputSize(architecture.imageSize, 2);
  const features: { channels: number; size: number }[] = [{ channels: stemChannels, size: stemSize }];
  const blocks: ResolvedVisionBlock[] = [];
  let channels = stemChannels;
  let size = stemSize;
  architecture.stages.forEach((stage, stageIndex) => {
    stage.forEach((spec, index) => {
      const outChannels = makeDivisible(spec.outChannels);
      const stride = spec.kind === 'multi_query_attention' ? 1 : spec.stride;
      const midChannels = spec.kind === 'multi_query_attention' ? channels : makeDivisible(channels * spec.expansionRatio);
      const outSize = sameOutputSize(size, stride);
      blocks.push({
        path: `blocks.${stageIndex}.${index}`,
        stage: stageIndex,
        index,
        spec,
        inChannels: channels,
        outChannels,
        midChannels,
        inSize: size,
        outSize,
        hasSkip: stride === 1 && channels === outChannels,
      });
      channels = outChannels;
      size = outSize;
    });
    features.push({ channels, size });
  });

  const featureIndices = architecture.msfaIndices.map((index) => (index < 0 ? features.length + index : index));
  for (const index of featureIndices) {
    if (index < 0 || index >= features.length) {
      throw new RangeError(`msfa index ${index} is outside the ${features.length} features (stem + ${architecture.stages.length} stages)`);
    }
  }
  const inputs = featureIndices.map((index) => features[index]!);
  const fusedSize = inputs[0]!.size;
  if (inputs.some((input) => input.size > fusedSize)) {
    throw new RangeError(`msfa: the first fused feature (side ${fusedSize}) must be the largest; got sides ${inputs.map((input) => input.size).join(', ')}`);
  }
  const outputResolution = architecture.msfaOutputResolution;
  if (fusedSize % outputResolution !== 0) {
    // timm falls back to a bilinear resize here; no released architecture needs it.
    throw new RangeError(`msfa: fused side ${fusedSize} is not a multiple of the output resolution ${outputResolution} (bilinear fallback not implemented)`);
  }
  const inChannels = inputs.reduce((sum, input) => sum + input.channels, 0);
  return {
    architecture,
    stemChannels,
    stemSize,
    blocks,
    msfa: {
      featureIndices,
      inputs,
      inChannels,
      midChannels: makeDivisible(inChannels * 2),
      outChannels: architecture.outChannels,
      fusedSize,
      outputResolution,
      poolSize: fusedSize / outputResolution,
    },
    tokenCount: outputResolution * outputResolution,
  };
}
