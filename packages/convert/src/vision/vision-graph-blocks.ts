import type { GraphScope } from '../onnx/onnx-graph-builder';
import { geluTanh, type TextGraphContext } from '../text/text-graph-context';
import type { MobileNetV5BlockSpec } from './mobilenet-v5-architecture';
import { samePadding, type ResolvedVisionBlock } from './mobilenet-v5-layout';

/*
 * The MobileNetV5 blocks as plain ai.onnx ops (Conv, ReduceMean, Sqrt, Div, Mul, Add, Gelu-20,
 * Reshape, Transpose, MatMul, Softmax, Gather, Concat, AveragePool), all measured to work on
 * node CPU, wasm and both WebGPU builds (ort-op-support.md). Feature maps are NCHW with a
 * symbolic batch and static sides, so every padding is computed here at build time.
 */

/** Where one block's weights come from and where its nodes go. */
export interface VisionBlockContext {
  context: TextGraphContext;
  /** Checkpoint prefix, `model.vision_tower.timm_model.`. */
  prefix: string;
  normEpsilon: number;
}

export interface ConvOptions {
  /** Square input side, for the TF SAME pads. */
  inSize: number;
  kernelSize: number;
  stride?: number;
  /** Depthwise when equal to the input channels. */
  groups?: number;
  outChannels: number;
  inChannels: number;
  /** Checkpoint name of a bias, if the conv has one. */
  biasName?: string;
}

/**
 * Conv2d with TF SAME padding as explicit pads `[top, left, bottom, right]` — the same
 * numbers `auto_pad=SAME_UPPER` gives (odd pixel at the bottom/right), written out so the
 * model says what it does and no runtime's auto_pad handling is relied on.
 */
export async function conv(blocks: VisionBlockContext, scope: GraphScope, name: string, x: string, weightName: string, options: ConvOptions): Promise<string> {
  const stride = options.stride ?? 1;
  const groups = options.groups ?? 1;
  const shape = [options.outChannels, options.inChannels / groups, options.kernelSize, options.kernelSize];
  const weight = await scope.initializer(`${name}.weight`, 'float32', shape, await blocks.context.read(`${blocks.prefix}${weightName}`, shape));
  const inputs = [x, weight];
  if (options.biasName !== undefined) {
    const bias = await blocks.context.read(`${blocks.prefix}${options.biasName}`, [options.outChannels]);
    inputs.push(await scope.initializer(`${name}.bias`, 'float32', [options.outChannels], bias));
  }
  const [before, after] = samePadding(options.inSize, options.kernelSize, stride);
  return scope.op('Conv', inputs, {
    name: `${name}/Conv`,
    attributes: {
      kernel_shape: [options.kernelSize, options.kernelSize],
      strides: [stride, stride],
      pads: [before, before, after, after],
      group: groups,
      dilations: [1, 1],
    },
  });
}

/** A per-channel vector [C] of the checkpoint as a [C, 1, 1] initializer (broadcasts over H, W). */
async function channelVector(blocks: VisionBlockContext, scope: GraphScope, name: string, weightName: string, channels: number): Promise<string> {
  const values = await blocks.context.read(`${blocks.prefix}${weightName}`, [channels]);
  return scope.initializer(name, 'float32', [channels, 1, 1], values);
}

/** timm RmsNorm2d: `x · rsqrt(mean_c(x²) + eps) · w[c]`, the mean over the channel axis. */
export async function rmsNorm2d(blocks: VisionBlockContext, scope: GraphScope, name: string, x: string, weightName: string, channels: number): Promise<string> {
  const norm = scope.scope(name);
  const squared = norm.op('Mul', [x, x], { name: 'Square' });
  const meanSquare = norm.op('ReduceMean', [squared, norm.int64([1])], { name: 'ReduceMean', attributes: { keepdims: 1 } });
  const root = norm.op('Sqrt', [norm.op('Add', [meanSquare, norm.float32(blocks.normEpsilon)], { name: 'AddEpsilon' })], { name: 'Sqrt' });
  const normalized = norm.op('Div', [x, root], { name: 'Div' });
  const weight = await channelVector(blocks, scope, `${name}.weight`, weightName, channels);
  return norm.op('Mul', [normalized, weight], { name: 'Scale' });
}

/** timm ConvNormAct: conv → RmsNorm2d (`{module}.bn`) → optional GELU (tanh). */
async function convNormAct(blocks: VisionBlockContext, scope: GraphScope, path: string, module: string, x: string, options: ConvOptions, activate: boolean): Promise<string> {
  const convolved = await conv(blocks, scope, `${module}.conv`, x, `${path}.${module}.conv.weight`, options);
  const normed = await rmsNorm2d(blocks, scope, `${module}.bn`, convolved, `${path}.${module}.bn.weight`, options.outChannels);
  return activate ? geluTanh(scope, `${module}/Gelu`, normed) : normed;
}

/** `x · γ[c]` (timm LayerScale2d), then the residual add when the block has one. */
async function scaleAndSkip(blocks: VisionBlockContext, scope: GraphScope, block: ResolvedVisionBlock, branch: string, shortcut: string): Promise<string> {
  const gamma = await channelVector(blocks, scope, 'layer_scale.gamma', `${block.path}.layer_scale.gamma`, block.outChannels);
  const scaled = scope.op('Mul', [branch, gamma], { name: 'layer_scale/Mul' });
  return block.hasSkip ? scope.op('Add', [scaled, shortcut], { name: 'Residual' }) : scaled;
}

/** EdgeResidual: conv_exp k×k (carries the stride) → bn1 + GELU → conv_pwl 1×1 → bn2 → skip. */
export async function edgeResidual(blocks: VisionBlockContext, scope: GraphScope, block: ResolvedVisionBlock, x: string): Promise<string> {
  const spec = block.spec;
  if (spec.kind !== 'edge_residual') throw new Error(`${block.path} is not an edge residual block`);
  const path = block.path;
  const expanded = await conv(blocks, scope, 'conv_exp', x, `${path}.conv_exp.weight`, {
    inSize: block.inSize, kernelSize: spec.kernelSize, stride: spec.stride, inChannels: block.inChannels, outChannels: block.midChannels,
  });
  const activated = geluTanh(scope, 'bn1/Gelu', await rmsNorm2d(blocks, scope, 'bn1', expanded, `${path}.bn1.weight`, block.midChannels));
  const projected = await conv(blocks, scope, 'conv_pwl', activated, `${path}.conv_pwl.weight`, {
    inSize: block.outSize, kernelSize: 1, inChannels: block.midChannels, outChannels: block.outChannels,
  });
  const normed = await rmsNorm2d(blocks, scope, 'bn2', projected, `${path}.bn2.weight`, block.outChannels);
  return block.hasSkip ? scope.op('Add', [normed, x], { name: 'Residual' }) : normed;
}

/**
 * Universal Inverted Residual: dw_start (depthwise, norm, no act; carries the stride only when
 * there is no dw_mid) → pw_exp (1×1, norm, GELU) → dw_mid (depthwise, norm, GELU, stride) →
 * pw_proj (1×1, norm) → layer scale → skip. `layerScale: false` for the MSFA's FFN.
 */
export async function universalInvertedResidual(
  blocks: VisionBlockContext,
  scope: GraphScope,
  block: ResolvedVisionBlock,
  x: string,
  layerScale = true,
): Promise<string> {
  const spec = block.spec;
  if (spec.kind !== 'universal_inverted_residual') throw new Error(`${block.path} is not a universal inverted residual block`);
  let current = x;
  let size = block.inSize;
  if (spec.startKernelSize > 0) {
    const stride = spec.midKernelSize > 0 ? 1 : spec.stride;
    current = await convNormAct(blocks, scope, block.path, 'dw_start', current, {
      inSize: size, kernelSize: spec.startKernelSize, stride, groups: block.inChannels, inChannels: block.inChannels, outChannels: block.inChannels,
    }, false);
    size = Math.ceil(size / stride);
  }
  current = await convNormAct(blocks, scope, block.path, 'pw_exp', current, { inSize: size, kernelSize: 1, inChannels: block.inChannels, outChannels: block.midChannels }, true);
  if (spec.midKernelSize > 0) {
    current = await convNormAct(blocks, scope, block.path, 'dw_mid', current, {
      inSize: size, kernelSize: spec.midKernelSize, stride: spec.stride, groups: block.midChannels, inChannels: block.midChannels, outChannels: block.midChannels,
    }, true);
    size = Math.ceil(size / spec.stride);
  }
  current = await convNormAct(blocks, scope, block.path, 'pw_proj', current, { inSize: size, kernelSize: 1, inChannels: block.midChannels, outChannels: block.outChannels }, false);
  if (!layerScale) return block.hasSkip ? scope.op('Add', [current, x], { name: 'Residual' }) : current;
  return scaleAndSkip(blocks, scope, block, current, x);
}

/**
 * MobileAttention with MultiQueryAttention2d: `x + γ · Attn(RmsNorm2d(x))`. Queries are
 * h·kd channels split head-major (channel = head·kd + d); one shared key and value head, from
 * the optionally downsampled map (depthwise down_conv stride kv_stride → norm); tokens
 * row-major; `softmax(q·kᵀ · kd^-0.5)·v`; heads concatenated head-major → 1×1 output proj.
 */
export async function mobileAttention(blocks: VisionBlockContext, scope: GraphScope, block: ResolvedVisionBlock, x: string): Promise<string> {
  const spec: MobileNetV5BlockSpec = block.spec;
  if (spec.kind !== 'multi_query_attention') throw new Error(`${block.path} is not an attention block`);
  const path = block.path;
  const channels = block.inChannels;
  const side = block.inSize;
  const queryTokens = side * side;
  const normed = await rmsNorm2d(blocks, scope, 'norm', x, `${path}.norm.weight`, channels);
  const attn = scope.scope('attn');

  const query = await conv(blocks, attn, 'query.proj', normed, `${path}.attn.query.proj.weight`, {
    inSize: side, kernelSize: 1, inChannels: channels, outChannels: spec.numHeads * spec.keyDim,
  });
  const queryHeads = attn.op('Reshape', [query, attn.int64([0, spec.numHeads, spec.keyDim, queryTokens])], { name: 'query/Reshape' });
  const queryRows = attn.op('Transpose', [queryHeads], { name: 'query/Transpose', attributes: { perm: [0, 1, 3, 2] } });
  const scaledQuery = attn.op('Mul', [queryRows, attn.float32(spec.keyDim ** -0.5)], { name: 'query/Scale' });

  const keyValue = async (branch: 'key' | 'value', width: number): Promise<{ values: string; tokens: number }> => {
    let source = normed;
    let kvSide = side;
    if (spec.kvStride > 1) {
      source = await conv(blocks, attn, `${branch}.down_conv`, source, `${path}.attn.${branch}.down_conv.weight`, {
        inSize: side, kernelSize: spec.kvKernelSize, stride: spec.kvStride, groups: channels, inChannels: channels, outChannels: channels,
      });
      source = await rmsNorm2d(blocks, attn, `${branch}.norm`, source, `${path}.attn.${branch}.norm.weight`, channels);
      kvSide = Math.ceil(side / spec.kvStride);
    }
    const projected = await conv(blocks, attn, `${branch}.proj`, source, `${path}.attn.${branch}.proj.weight`, {
      inSize: kvSide, kernelSize: 1, inChannels: channels, outChannels: width,
    });
    const tokens = kvSide * kvSide;
    // [N, width, M] with a singleton head axis that broadcasts over the query heads.
    const values = attn.op('Reshape', [projected, attn.int64([0, 1, width, tokens])], { name: `${branch}/Reshape` });
    return { values, tokens };
  };
  const key = await keyValue('key', spec.keyDim);
  const value = await keyValue('value', spec.valueDim);

  const logits = attn.op('MatMul', [scaledQuery, key.values], { name: 'Logits' }); // [N, h, HW, M]
  const probabilities = attn.op('Softmax', [logits], { name: 'Softmax', attributes: { axis: -1 } });
  const valueRows = attn.op('Transpose', [value.values], { name: 'value/Transpose', attributes: { perm: [0, 1, 3, 2] } }); // [N, 1, M, vd]
  const mixed = attn.op('MatMul', [probabilities, valueRows], { name: 'Mix' }); // [N, h, HW, vd]
  const channelsFirst = attn.op('Transpose', [mixed], { name: 'output/Transpose', attributes: { perm: [0, 1, 3, 2] } });
  const merged = attn.op('Reshape', [channelsFirst, attn.int64([0, spec.numHeads * spec.valueDim, side, side])], { name: 'output/Reshape' });
  const output = await conv(blocks, attn, 'output.proj', merged, `${path}.attn.output.proj.weight`, {
    inSize: side, kernelSize: 1, inChannels: spec.numHeads * spec.valueDim, outChannels: block.outChannels,
  });
  return scaleAndSkip(blocks, scope, block, output, x);
}
