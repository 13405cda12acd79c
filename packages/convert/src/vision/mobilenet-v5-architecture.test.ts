import { ConfigError, parseGemma3nConfig } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import { expectedVisionTensors, VISION_TOWER_PREFIX } from './expected-vision-tensors';
import { makeDivisible, mobilenetV5Architecture, parseBlockArgs, visionArchitectureFromConfig } from './mobilenet-v5-architecture';
import { resolveVisionTower, samePadding } from './mobilenet-v5-layout';
import { randomVisionTowerWeights, TINY_VISION_ARCHITECTURE, withVisionArchitecture } from './random-vision-weights';

describe('parseBlockArgs', () => {
  it('reads timm block strings', () => {
    expect(parseBlockArgs('er_r1_k3_s2_e4_c128')).toEqual([{ kind: 'edge_residual', kernelSize: 3, stride: 2, expansionRatio: 4, outChannels: 128 }]);
    expect(parseBlockArgs('uir_r1_a0_k0_s1_e2_c640')).toEqual([
      { kind: 'universal_inverted_residual', startKernelSize: 0, midKernelSize: 0, stride: 1, expansionRatio: 2, outChannels: 640 },
    ]);
    expect(parseBlockArgs('mqa_r1_k3_h12_v2_s1_d64_c640')).toEqual([
      { kind: 'multi_query_attention', numHeads: 12, keyDim: 64, valueDim: 64, kvStride: 2, kvKernelSize: 3, outChannels: 640 },
    ]);
    expect(parseBlockArgs('mqa_r1_k3_h16_s1_d96_c1280')[0]).toMatchObject({ kvStride: 1, keyDim: 96 });
    // Repeats: the first copy keeps the stride.
    expect(parseBlockArgs('uir_r2_a3_k5_s2_e6_c256').map((spec) => 'stride' in spec && spec.stride)).toEqual([2, 1]);
  });
  it('rejects what MobileNetV5 does not use, naming the block', () => {
    expect(() => parseBlockArgs('ds_r1_k3_s1_c16')).toThrow('unknown block kind "ds" in "ds_r1_k3_s1_c16"');
    expect(() => parseBlockArgs('mqa_r1_k3_h4_s2_d8_c32')).toThrow('query strides are not supported');
    expect(() => parseBlockArgs('uir_r1_a0_k0_s2_e2_c8')).toThrow('has a stride but no depthwise convolution');
  });
});

describe('mobilenetV5Architecture (MobileNetV5-300M, §3)', () => {
  const architecture = mobilenetV5Architecture();
  const tower = resolveVisionTower(architecture);
  const stage = (index: number) => tower.blocks.filter((block) => block.stage === index);

  it('has the stage / block table of §3', () => {
    expect(architecture.stages.map((blocks) => blocks.length)).toEqual([3, 5, 37, 39]);
    expect([tower.stemChannels, tower.stemSize]).toEqual([64, 384]);
    const summary = (index: number) =>
      stage(index).map((block) => `${block.spec.kind[0]}:${block.inChannels}>${block.midChannels}>${block.outChannels}@${block.inSize}>${block.outSize}${block.hasSkip ? '+' : ''}`);
    expect(summary(0)).toEqual(['e:64>256>128@384>192', 'e:128>512>128@192>192+', 'e:128>512>128@192>192+']);
    expect(summary(1)).toEqual(['u:128>768>256@192>96', ...new Array(4).fill('u:256>1024>256@96>96+')]);
    expect(stage(1).map((block) => block.spec.kind === 'universal_inverted_residual' && [block.spec.startKernelSize, block.spec.midKernelSize])).toEqual([
      [3, 5], [5, 0], [3, 0], [5, 0], [3, 0],
    ]);
    expect(summary(2).slice(0, 10)).toEqual([
      'u:256>1536>640@96>48',
      ...new Array(7).fill('u:640>2560>640@48>48+'),
      'u:640>640>640@48>48+',
      'm:640>640>640@48>48+',
    ]);
    expect(summary(2).slice(9)).toEqual(new Array(14).fill(['m:640>640>640@48>48+', 'u:640>1280>640@48>48+']).flat());
    expect(summary(3)).toEqual(['u:640>3840>1280@48>24', ...new Array(19).fill(['m:1280>1280>1280@24>24+', 'u:1280>2560>1280@24>24+']).flat()]);
  });

  it('has 12-head kd 64 attention with kv_stride 2 (K/V 24×24) in stage 2 and 16-head kd 96 without in stage 3', () => {
    const attention = (index: number) => stage(index).flatMap((block) => (block.spec.kind === 'multi_query_attention' ? [block.spec] : []));
    expect(new Set(attention(2).map((spec) => `${spec.numHeads}/${spec.keyDim}/${spec.valueDim}/${spec.kvStride}`))).toEqual(new Set(['12/64/64/2']));
    expect(new Set(attention(3).map((spec) => `${spec.numHeads}/${spec.keyDim}/${spec.valueDim}/${spec.kvStride}`))).toEqual(new Set(['16/96/96/1']));
    expect([attention(2).length, attention(3).length]).toEqual([14, 19]);
    // The 48×48 map's 3×3 stride-2 down_conv pads [0, 1] and gives 24×24 keys and values.
    expect(samePadding(48, 3, 2)).toEqual([0, 1]);
  });

  it('fuses stages 2 and 3 into [2048, 16, 16] = 256 tokens', () => {
    expect(tower.msfa).toEqual({
      featureIndices: [3, 4],
      inputs: [{ channels: 640, size: 48 }, { channels: 1280, size: 24 }],
      inChannels: 1920,
      midChannels: 3840,
      outChannels: 2048,
      fusedSize: 48,
      outputResolution: 16,
      poolSize: 3,
    });
    expect(tower.tokenCount).toBe(256);
  });

  it('lists the checkpoint tensors of §6: 548 tensors, 294.1 M parameters', () => {
    const tensors = expectedVisionTensors(architecture);
    const shapes = new Map(tensors.map((tensor) => [tensor.name.slice(VISION_TOWER_PREFIX.length), tensor.shape]));
    expect(tensors.every((tensor) => tensor.name.startsWith(VISION_TOWER_PREFIX))).toBe(true);
    expect(shapes.size).toBe(548);
    expect(tensors.reduce((sum, tensor) => sum + tensor.shape.reduce((product, size) => product * size, 1), 0)).toBe(294_126_912);
    expect(shapes.get('conv_stem.conv.weight')).toEqual([64, 3, 3, 3]);
    expect(shapes.get('conv_stem.conv.bias')).toEqual([64]);
    expect(shapes.get('blocks.0.0.conv_exp.weight')).toEqual([256, 64, 3, 3]);
    expect(shapes.get('blocks.0.0.conv_pwl.weight')).toEqual([128, 256, 1, 1]);
    expect(shapes.get('blocks.1.0.dw_start.conv.weight')).toEqual([128, 1, 3, 3]);
    expect(shapes.get('blocks.1.0.dw_mid.conv.weight')).toEqual([768, 1, 5, 5]);
    expect(shapes.has('blocks.1.1.dw_mid.conv.weight')).toBe(false);
    expect(shapes.get('blocks.2.8.pw_exp.conv.weight')).toEqual([640, 640, 1, 1]);
    expect(shapes.get('blocks.2.9.attn.query.proj.weight')).toEqual([768, 640, 1, 1]);
    expect(shapes.get('blocks.2.9.attn.key.down_conv.weight')).toEqual([640, 1, 3, 3]);
    expect(shapes.get('blocks.2.9.attn.value.norm.weight')).toEqual([640]);
    expect(shapes.get('blocks.2.9.attn.key.proj.weight')).toEqual([64, 640, 1, 1]);
    expect(shapes.get('blocks.2.9.attn.output.proj.weight')).toEqual([640, 768, 1, 1]);
    expect(shapes.get('blocks.2.9.layer_scale.gamma')).toEqual([640]);
    expect(shapes.has('blocks.3.1.attn.key.down_conv.weight')).toBe(false);
    expect(shapes.get('blocks.3.1.attn.query.proj.weight')).toEqual([1536, 1280, 1, 1]);
    expect(shapes.get('blocks.3.1.attn.value.proj.weight')).toEqual([96, 1280, 1, 1]);
    expect(shapes.get('blocks.3.38.pw_proj.conv.weight')).toEqual([1280, 2560, 1, 1]);
    expect(shapes.has('blocks.3.39.pw_proj.conv.weight')).toBe(false);
    expect(shapes.get('msfa.ffn.pw_exp.conv.weight')).toEqual([3840, 1920, 1, 1]);
    expect(shapes.get('msfa.ffn.pw_proj.conv.weight')).toEqual([2048, 3840, 1, 1]);
    expect(shapes.get('msfa.norm.weight')).toEqual([2048]);
    // ER blocks and the MSFA have no layer scale; every UIR and attention block of a stage has one.
    expect([...shapes.keys()].filter((name) => name.endsWith('layer_scale.gamma')).length).toBe(5 + 37 + 39);
  });
});

describe('visionArchitectureFromConfig', () => {
  it('maps the released config (architecture name only) to MobileNetV5-300M', () => {
    const raw = tinyShapeConfig('tiny-window-4');
    (raw['vision_config'] as Record<string, unknown>)['hidden_size'] = 2048;
    expect(visionArchitectureFromConfig(parseGemma3nConfig(raw).vision!)).toEqual(mobilenetV5Architecture());
  });

  it('refuses the 300M name with a hidden size it cannot produce', () => {
    const config = parseGemma3nConfig(tinyShapeConfig('tiny-window-4'));
    expect(() => visionArchitectureFromConfig(config.vision!)).toThrow(ConfigError);
    expect(() => visionArchitectureFromConfig(config.vision!)).toThrow('vision_config.hidden_size is 16; expected 2048');
  });

  it('reads a tiny tower from vision_config.mobilenetv5_architecture', () => {
    const config = parseGemma3nConfig(withVisionArchitecture(tinyShapeConfig('tiny-mha-every-5')));
    const architecture = visionArchitectureFromConfig(config.vision!);
    expect(architecture).toMatchObject({ imageSize: 96, stemSize: 8, msfaOutputResolution: 2, outChannels: 32, msfaIndices: [-2, -1] });
    expect(architecture.stages.flat().map((spec) => spec.kind)).toEqual([
      'edge_residual', 'edge_residual',
      'universal_inverted_residual', 'universal_inverted_residual',
      'universal_inverted_residual', 'universal_inverted_residual', 'multi_query_attention', 'universal_inverted_residual',
      'universal_inverted_residual', 'multi_query_attention', 'universal_inverted_residual',
    ]);
    expect(config.visionSoftTokensPerImage).toBe(4);
    const weights = randomVisionTowerWeights(architecture, { seed: 1 });
    expect(weights.names().sort()).toEqual(expectedVisionTensors(architecture).map((tensor) => tensor.name).sort());
    expect(weights.get(`${VISION_TOWER_PREFIX}blocks.2.2.attn.key.down_conv.weight`)).toHaveLength(24 * 9);
    // Seeded: the same seed gives the same values, another seed others.
    const name = `${VISION_TOWER_PREFIX}blocks.1.0.pw_exp.conv.weight`;
    expect(randomVisionTowerWeights(architecture, { seed: 1 }).get(name)).toEqual(weights.get(name));
    expect(randomVisionTowerWeights(architecture, { seed: 2 }).get(name)).not.toEqual(weights.get(name));
  });

  it('names a bad block string', () => {
    const raw = withVisionArchitecture(tinyShapeConfig('tiny-mha-every-5'), { ...TINY_VISION_ARCHITECTURE, block_args: [['er_r1_k3_s2_e4_c8'], ['xx_r1']] });
    expect(() => visionArchitectureFromConfig(parseGemma3nConfig(raw).vision!)).toThrow('vision_config.mobilenetv5_architecture.block_args: stage 1: unknown block kind "xx"');
  });

  it('make_divisible rounds channel counts like timm', () => {
    expect([makeDivisible(256), makeDivisible(640 * 4), makeDivisible(20), makeDivisible(4)]).toEqual([256, 2560, 24, 8]);
  });
});
