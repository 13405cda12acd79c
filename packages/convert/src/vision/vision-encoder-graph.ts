import { ConfigError, type Gemma3nConfig } from '@gemma3n/core';
import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import type { TensorSource } from '../tensor-source';
import { geluTanh, rmsNorm, TextGraphContext, type TextGraphProgress } from '../text/text-graph-context';
import { expectedVisionTensors, VISION_TOWER_PREFIX } from './expected-vision-tensors';
import { visionArchitectureFromConfig } from './mobilenet-v5-architecture';
import { resolveVisionTower, type ResolvedVisionBlock, type ResolvedVisionTower } from './mobilenet-v5-layout';
import {
  conv,
  edgeResidual,
  mobileAttention,
  rmsNorm2d,
  universalInvertedResidual,
  type VisionBlockContext,
} from './vision-graph-blocks';

export const VISION_ENCODER_FILE = 'vision_encoder.onnx';
const EMBEDDER_PREFIX = 'model.embed_vision.';

export interface VisionEncoderGraphOptions {
  onProgress?: (event: TextGraphProgress) => void;
}

export interface WriteVisionEncoderGraphOptions extends VisionEncoderGraphOptions {
  /** Size limit of one external data file (default 2 GiB). */
  maxExternalDataFileBytes?: number;
  /** Initializers of at least this many bytes go to external data (default 1 KiB). */
  externalDataThresholdBytes?: number;
}

/** The tower of a config, checked against what the rest of the model expects of it. */
export function visionTowerOfConfig(config: Gemma3nConfig): ResolvedVisionTower {
  if (config.vision === null) {
    throw new ConfigError({ field: 'vision_config', value: null, expected: 'a vision config, to build vision_encoder.onnx' });
  }
  const tower = resolveVisionTower(visionArchitectureFromConfig(config.vision));
  // HF reshapes the tower output to vision_soft_tokens_per_image tokens; the prompt holds
  // that many image soft tokens, so the two must agree.
  if (config.visionSoftTokensPerImage !== tower.tokenCount) {
    throw new ConfigError({
      field: 'vision_soft_tokens_per_image',
      value: config.visionSoftTokensPerImage,
      expected: `${tower.tokenCount} (the MSFA output resolution ${tower.msfa.outputResolution} squared)`,
    });
  }
  return tower;
}

/**
 * `vision_encoder.onnx` (model-folder contract): `pixel_values` float [batch_size, 3, S, S]
 * (S = 768 for the release) → `image_features` float [batch_size, tokens, D], the MobileNetV5
 * tower (§3) followed by the soft-token path of `embed_vision`:
 * `RMSNorm_noscale(embedding_projection(RMSNorm_soft(tokens · sqrt(vision hidden))))`.
 * Weights are read one at a time and streamed to the external data file.
 */
export async function buildVisionEncoderGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  graph: OnnxGraphBuilder,
  options: VisionEncoderGraphOptions = {},
): Promise<void> {
  const tower = visionTowerOfConfig(config);
  const vision = config.vision!;
  const architecture = tower.architecture;
  const stemBias = `${VISION_TOWER_PREFIX}conv_stem.conv.bias`;
  const hasStemBias = weights.has(stemBias);
  const tensorCount = expectedVisionTensors(architecture).length - (hasStemBias ? 0 : 1) + 2;
  const context = new TextGraphContext(graph, weights, 'vision_encoder', tensorCount, options.onProgress);
  const blocks: VisionBlockContext = { context, prefix: VISION_TOWER_PREFIX, normEpsilon: architecture.normEpsilon };

  const side = architecture.imageSize;
  const pixels = graph.input('pixel_values', 'float32', ['batch_size', architecture.inChannels, side, side]);
  const towerScope = graph.scope('/vision_tower');

  const stem = towerScope.scope('conv_stem');
  const stemConv = await conv(blocks, stem, 'conv', pixels, 'conv_stem.conv.weight', {
    inSize: side, kernelSize: 3, stride: 2, inChannels: architecture.inChannels, outChannels: tower.stemChannels,
    biasName: hasStemBias ? 'conv_stem.conv.bias' : undefined,
  });
  let x = geluTanh(stem, 'bn/Gelu', await rmsNorm2d(blocks, stem, 'bn', stemConv, 'conv_stem.bn.weight', tower.stemChannels));

  const features = [x];
  for (let stage = 0; stage < architecture.stages.length; stage++) {
    for (const block of tower.blocks.filter((candidate) => candidate.stage === stage)) {
      x = await buildBlock(blocks, towerScope.scope(block.path), block, x);
    }
    features.push(x);
  }

  const fused = await buildMsfa(blocks, towerScope.scope('msfa'), tower, features);

  const embedder = graph.scope('/embed_vision');
  const channels = tower.msfa.outChannels;
  const flat = embedder.op('Reshape', [fused, embedder.int64([0, channels, tower.tokenCount])], { name: 'Flatten' });
  const tokens = embedder.op('Transpose', [flat], { name: 'Transpose', attributes: { perm: [0, 2, 1] } });
  const scaled = embedder.op('Mul', [tokens, embedder.float32(Math.sqrt(vision.hiddenSize))], { name: 'Scale' });
  const softNorm = await context.vector(embedder, 'soft_embedding_norm.weight', `${EMBEDDER_PREFIX}soft_embedding_norm.weight`, vision.hiddenSize);
  const normalized = rmsNorm(embedder, 'soft_embedding_norm', scaled, softNorm, vision.rmsNormEps);
  const projected = await context.linear(embedder, 'embedding_projection', normalized, `${EMBEDDER_PREFIX}embedding_projection.weight`, vision.hiddenSize, config.text.hiddenSize);
  const embedded = rmsNorm(embedder, 'embedding_post_projection_norm', projected, null, vision.rmsNormEps);
  graph.output(embedded, 'image_features', 'float32', ['batch_size', tower.tokenCount, config.text.hiddenSize]);
}

function buildBlock(blocks: VisionBlockContext, scope: GraphScope, block: ResolvedVisionBlock, x: string): Promise<string> {
  switch (block.spec.kind) {
    case 'edge_residual':
      return edgeResidual(blocks, scope, block, x);
    case 'universal_inverted_residual':
      return universalInvertedResidual(blocks, scope, block, x);
    case 'multi_query_attention':
      return mobileAttention(blocks, scope, block, x);
  }
}

/**
 * Multi-scale fusion: every feature smaller than the first is upsampled (nearest) to its
 * side, all are concatenated on channels, a UIR without depthwise convs, skip or layer scale
 * mixes them, an average pool (kernel = stride) brings them to the output resolution and a
 * final RmsNorm2d follows.
 */
async function buildMsfa(blocks: VisionBlockContext, scope: GraphScope, tower: ResolvedVisionTower, features: string[]): Promise<string> {
  const msfa = tower.msfa;
  const inputs = msfa.featureIndices.map((featureIndex, position) => {
    const size = msfa.inputs[position]!.size;
    return size < msfa.fusedSize ? nearestUpsample(scope, `upsample_${position}`, features[featureIndex]!, size, msfa.fusedSize) : features[featureIndex]!;
  });
  const concatenated = inputs.length === 1 ? inputs[0]! : scope.op('Concat', inputs, { name: 'Concat', attributes: { axis: 1 } });
  const ffnBlock: ResolvedVisionBlock = {
    path: 'msfa.ffn',
    stage: -1,
    index: 0,
    spec: { kind: 'universal_inverted_residual', startKernelSize: 0, midKernelSize: 0, stride: 1, expansionRatio: 2, outChannels: msfa.outChannels },
    inChannels: msfa.inChannels,
    outChannels: msfa.outChannels,
    midChannels: msfa.midChannels,
    inSize: msfa.fusedSize,
    outSize: msfa.fusedSize,
    hasSkip: false, // noskip=True in timm's MSFA
  };
  let x = await universalInvertedResidual(blocks, scope.scope('ffn'), ffnBlock, concatenated, false);
  if (msfa.poolSize > 1) {
    x = scope.op('AveragePool', [x], {
      name: 'AveragePool',
      attributes: { kernel_shape: [msfa.poolSize, msfa.poolSize], strides: [msfa.poolSize, msfa.poolSize], pads: [0, 0, 0, 0] },
    });
  }
  return rmsNorm2d(blocks, scope, 'norm', x, 'msfa.norm.weight', msfa.outChannels);
}

/**
 * PyTorch `F.interpolate(mode='nearest', size=…)`: output pixel d reads input ⌊d · in/out⌋.
 * Written as two Gathers with those indices (exact for any ratio, no Resize attribute
 * semantics to get right on each runtime).
 */
function nearestUpsample(scope: GraphScope, name: string, x: string, inSize: number, outSize: number): string {
  const indices = Array.from({ length: outSize }, (_, index) => Math.min(Math.floor((index * inSize) / outSize), inSize - 1));
  const rows = scope.op('Gather', [x, scope.int64(indices)], { name: `${name}/GatherRows`, attributes: { axis: 2 } });
  return scope.op('Gather', [rows, scope.int64(indices)], { name: `${name}/GatherColumns`, attributes: { axis: 3 } });
}

/**
 * Writes `vision_encoder.onnx` (+ `vision_encoder.onnx_data`) into `onnxDir`: fp32, plain
 * ai.onnx opset-21 ops. Returns the written files relative to `onnxDir`.
 */
export async function writeVisionEncoderGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WriteVisionEncoderGraphOptions = {},
): Promise<{ files: string[] }> {
  const files = await writeOnnxModel(
    {
      directory: onnxDir,
      fileName: VISION_ENCODER_FILE,
      graphName: 'vision_encoder',
      maxExternalDataFileBytes: options.maxExternalDataFileBytes,
      externalDataThresholdBytes: options.externalDataThresholdBytes,
    },
    (graph) => buildVisionEncoderGraph(config, weights, graph, options),
  );
  return { files };
}
