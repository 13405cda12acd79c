import { ConfigError, type Gemma3nVisionConfig } from '@gemma3n/core';

/*
 * The MobileNetV5 vision tower as data (architecture doc §3), in the block notation of timm's
 * `_gen_mobilenet_v5` arch definition, so the real table can be read side by side with timm:
 *
 *   er_r1_k3_s2_e4_c128           EdgeResidual: conv_exp kernel 3, stride 2, expansion 4, 128 out
 *   uir_r1_a3_k5_s2_e6_c256       Universal Inverted Residual: dw_start kernel 3 (a0 = none),
 *                                 dw_mid kernel 5 (k0 = none), stride 2, expansion 6, 256 out
 *   mqa_r1_k3_h12_v2_s1_d64_c640  MobileAttention, multi-query: 12 heads, key = value dim 64,
 *                                 kv_stride 2 (v absent = 1) with a 3×3 depthwise down_conv
 *
 * `r1` (repeat) is the only repeat count timm's MobileNetV5 definitions use; other counts are
 * accepted and expand to copies, the first keeping the stride (as timm's builder does).
 */

export type MobileNetV5BlockSpec = EdgeResidualSpec | UniversalInvertedResidualSpec | MultiQueryAttentionSpec;

export interface EdgeResidualSpec {
  kind: 'edge_residual';
  kernelSize: number;
  stride: number;
  expansionRatio: number;
  outChannels: number;
}

export interface UniversalInvertedResidualSpec {
  kind: 'universal_inverted_residual';
  /** Depthwise kernel before the expansion; 0 = no dw_start. */
  startKernelSize: number;
  /** Depthwise kernel after the expansion; 0 = no dw_mid. */
  midKernelSize: number;
  stride: number;
  expansionRatio: number;
  outChannels: number;
}

export interface MultiQueryAttentionSpec {
  kind: 'multi_query_attention';
  numHeads: number;
  keyDim: number;
  valueDim: number;
  /** Key/value downsampling; > 1 adds a depthwise `down_conv` + norm before each projection. */
  kvStride: number;
  /** Kernel of the key/value down_conv (used only when kvStride > 1). */
  kvKernelSize: number;
  outChannels: number;
}

export interface MobileNetV5Architecture {
  name: string;
  /** Square input side the graph is built for (768 for the release). */
  imageSize: number;
  inChannels: number;
  stemSize: number;
  stages: MobileNetV5BlockSpec[][];
  /**
   * Features fused by the MSFA, timm-style: 0 is the stem output, s + 1 the output of stage s;
   * negative values count from the end. The first listed feature must be the largest.
   */
  msfaIndices: number[];
  msfaOutputResolution: number;
  /** MSFA output channels: `vision_config.hidden_size` (2048 for the release). */
  outChannels: number;
  /** Every RmsNorm2d of the tower (timm default 1e-6). */
  normEpsilon: number;
}

/** The name `vision_config.architecture` carries in every Gemma 3n release. */
export const MOBILENET_V5_300M_NAME = 'mobilenetv5_300m_enc';

const repeat = <T>(count: number, make: (index: number) => T[]): T[] => Array.from({ length: count }, (_, index) => make(index)).flat();

/** timm `_gen_mobilenet_v5` for `mobilenetv5_300m_enc` (not the `_base` variant), stage by stage. */
export const MOBILENET_V5_300M_BLOCK_ARGS: readonly (readonly string[])[] = [
  ['er_r1_k3_s2_e4_c128', 'er_r1_k3_s1_e4_c128', 'er_r1_k3_s1_e4_c128'],
  ['uir_r1_a3_k5_s2_e6_c256', 'uir_r1_a5_k0_s1_e4_c256', 'uir_r1_a3_k0_s1_e4_c256', 'uir_r1_a5_k0_s1_e4_c256', 'uir_r1_a3_k0_s1_e4_c256'],
  [
    'uir_r1_a5_k5_s2_e6_c640',
    ...repeat(7, () => ['uir_r1_a5_k0_s1_e4_c640']),
    'uir_r1_a0_k0_s1_e1_c640',
    ...repeat(14, () => ['mqa_r1_k3_h12_v2_s1_d64_c640', 'uir_r1_a0_k0_s1_e2_c640']),
  ],
  ['uir_r1_a5_k5_s2_e6_c1280', ...repeat(19, () => ['mqa_r1_k3_h16_s1_d96_c1280', 'uir_r1_a0_k0_s1_e2_c1280'])],
];

/** MobileNetV5-300M as released in Gemma 3n E2B and E4B: 768×768 in, [2048, 16, 16] out. */
export function mobilenetV5Architecture(): MobileNetV5Architecture {
  return {
    name: MOBILENET_V5_300M_NAME,
    imageSize: 768,
    inChannels: 3,
    stemSize: 64,
    stages: MOBILENET_V5_300M_BLOCK_ARGS.map((stage, index) => stage.flatMap((block) => parseBlockArgs(block, `stage ${index}`))),
    msfaIndices: [-2, -1],
    msfaOutputResolution: 16,
    outChannels: 2048,
    normEpsilon: 1e-6,
  };
}

/** Parses one timm block string (`uir_r1_a3_k5_s2_e6_c256`) into its specs (one per repeat). */
export function parseBlockArgs(text: string, where = 'block'): MobileNetV5BlockSpec[] {
  const [kind, ...parts] = text.split('_');
  const options = new Map<string, string>();
  for (const part of parts) {
    const match = /^([a-z]+)(\d+(?:\.\d+)?)$/.exec(part);
    if (!match) throw new RangeError(`${where}: cannot read "${part}" in block "${text}"`);
    options.set(match[1]!, match[2]!);
  }
  const read = (key: string, fallback?: number): number => {
    const value = options.get(key);
    if (value === undefined) {
      if (fallback === undefined) throw new RangeError(`${where}: block "${text}" has no "${key}" option`);
      return fallback;
    }
    return Number(value);
  };
  const repeats = read('r', 1);
  let spec: MobileNetV5BlockSpec;
  if (kind === 'er') {
    spec = { kind: 'edge_residual', kernelSize: read('k'), stride: read('s', 1), expansionRatio: read('e'), outChannels: read('c') };
  } else if (kind === 'uir') {
    spec = {
      kind: 'universal_inverted_residual',
      startKernelSize: read('a', 0),
      midKernelSize: read('k'),
      stride: read('s', 1),
      expansionRatio: read('e'),
      outChannels: read('c'),
    };
    if (spec.stride > 1 && spec.startKernelSize === 0 && spec.midKernelSize === 0) {
      throw new RangeError(`${where}: block "${text}" has a stride but no depthwise convolution to carry it`);
    }
  } else if (kind === 'mqa') {
    const dim = read('d');
    if (read('s', 1) !== 1) throw new RangeError(`${where}: block "${text}": query strides are not supported (MobileNetV5 uses none)`);
    spec = { kind: 'multi_query_attention', numHeads: read('h'), keyDim: dim, valueDim: dim, kvStride: read('v', 1), kvKernelSize: read('k'), outChannels: read('c') };
  } else {
    throw new RangeError(`${where}: unknown block kind "${kind}" in "${text}" (expected er, uir or mqa)`);
  }
  // Repeats after the first run at stride 1 (timm's EfficientNetBuilder).
  return Array.from({ length: repeats }, (_, index) => (index === 0 || !('stride' in spec) ? spec : { ...spec, stride: 1 }));
}

/**
 * timm `make_divisible(v, 8)`: round to the nearest multiple of 8, never below 8, and never
 * more than 10% below v. Gives the expanded ("mid") channel counts and rounds channel counts.
 */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/**
 * The architecture a vision config describes.
 *
 * Released configs only name `architecture: "mobilenetv5_300m_enc"` (timm builds the rest), so
 * that name gives `mobilenetV5Architecture()`, with `hidden_size` required to be its 2048.
 * Any other size is described by the gemma3n-js key `vision_config.mobilenetv5_architecture`:
 *
 * ```json
 * { "image_size": 96, "stem_size": 8, "block_args": [["er_r1_k3_s2_e4_c8"], …],
 *   "msfa_indices": [-2, -1], "msfa_output_resolution": 2 }
 * ```
 *
 * (block strings as in timm; every key but `block_args` defaults to the 300M value; the MSFA
 * output channels are `hidden_size`). Tiny test towers are written this way; Hugging Face
 * ignores the key, so such a config still loads there as a 300M config.
 */
export function visionArchitectureFromConfig(vision: Gemma3nVisionConfig): MobileNetV5Architecture {
  const raw = vision.raw;
  const custom = raw['mobilenetv5_architecture'];
  const real = mobilenetV5Architecture();
  if (custom === undefined) {
    const name = raw['architecture'] ?? MOBILENET_V5_300M_NAME;
    if (name !== MOBILENET_V5_300M_NAME) {
      throw new ConfigError({
        field: 'vision_config.architecture',
        value: name,
        expected: `"${MOBILENET_V5_300M_NAME}" (or a vision_config.mobilenetv5_architecture description)`,
      });
    }
    if (vision.hiddenSize !== real.outChannels) {
      throw new ConfigError({
        field: 'vision_config.hidden_size',
        value: vision.hiddenSize,
        expected: `${real.outChannels}, the MSFA width of ${MOBILENET_V5_300M_NAME}`,
      });
    }
    return real;
  }
  const field = 'vision_config.mobilenetv5_architecture';
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) {
    throw new ConfigError({ field, value: custom, expected: 'an object with block_args' });
  }
  const description = custom as Record<string, unknown>;
  const positiveInteger = (key: string, fallback: number): number => {
    const value = description[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new ConfigError({ field: `${field}.${key}`, value, expected: 'a positive integer' });
    }
    return value;
  };
  const blockArgs = description['block_args'];
  if (!Array.isArray(blockArgs) || blockArgs.length === 0 || !blockArgs.every((stage) => Array.isArray(stage) && stage.length > 0 && stage.every((block) => typeof block === 'string'))) {
    throw new ConfigError({ field: `${field}.block_args`, value: blockArgs, expected: 'a non-empty list of stages, each a non-empty list of timm block strings' });
  }
  const msfaIndices = description['msfa_indices'] ?? real.msfaIndices;
  if (!Array.isArray(msfaIndices) || msfaIndices.length === 0 || !msfaIndices.every((index) => Number.isInteger(index))) {
    throw new ConfigError({ field: `${field}.msfa_indices`, value: msfaIndices, expected: 'a non-empty list of feature indices' });
  }
  let stages: MobileNetV5BlockSpec[][];
  try {
    stages = (blockArgs as string[][]).map((stage, index) => stage.flatMap((block) => parseBlockArgs(block, `stage ${index}`)));
  } catch (error) {
    throw new ConfigError({ field: `${field}.block_args`, value: blockArgs, expected: 'timm block strings (er_…, uir_…, mqa_…)', cause: error, message: `${field}.block_args: ${(error as Error).message}` });
  }
  return {
    name: typeof raw['architecture'] === 'string' ? `${raw['architecture']} (custom)` : 'mobilenetv5 (custom)',
    imageSize: positiveInteger('image_size', real.imageSize),
    inChannels: 3,
    stemSize: positiveInteger('stem_size', real.stemSize),
    stages,
    msfaIndices: msfaIndices as number[],
    msfaOutputResolution: positiveInteger('msfa_output_resolution', real.msfaOutputResolution),
    outChannels: vision.hiddenSize,
    normEpsilon: real.normEpsilon,
  };
}
