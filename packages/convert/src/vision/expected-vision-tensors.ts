import type { ExpectedTensor } from '../checkpoint/expected-checkpoint-tensors';
import type { MobileNetV5Architecture } from './mobilenet-v5-architecture';
import { resolveVisionTower, type ResolvedVisionBlock } from './mobilenet-v5-layout';

/** Prefix of every vision-tower tensor in a Gemma 3n checkpoint (§6). */
export const VISION_TOWER_PREFIX = 'model.vision_tower.timm_model.';

/**
 * The checkpoint tensors of the vision tower (names as timm's modules spell them, §6), with
 * their PyTorch shapes: Conv2d weights [out, in / groups, k, k], norms and layer scales [C].
 * The embedder `model.embed_vision.*` is listed by `expectedCheckpointTensors`.
 *
 * `conv_stem.conv.bias` is listed: the official converter writes it (zeros) and timm's stem
 * conv has a bias; a checkpoint without it is still accepted by the graph builder.
 */
export function expectedVisionTensors(architecture: MobileNetV5Architecture): ExpectedTensor[] {
  const tower = resolveVisionTower(architecture);
  const tensors: ExpectedTensor[] = [];
  const add = (name: string, shape: number[]): void => {
    tensors.push({ name: `${VISION_TOWER_PREFIX}${name}`, shape });
  };
  add('conv_stem.conv.weight', [tower.stemChannels, architecture.inChannels, 3, 3]);
  add('conv_stem.conv.bias', [tower.stemChannels]);
  add('conv_stem.bn.weight', [tower.stemChannels]);
  for (const block of tower.blocks) addBlock(add, block);
  const msfa = tower.msfa;
  add('msfa.ffn.pw_exp.conv.weight', [msfa.midChannels, msfa.inChannels, 1, 1]);
  add('msfa.ffn.pw_exp.bn.weight', [msfa.midChannels]);
  add('msfa.ffn.pw_proj.conv.weight', [msfa.outChannels, msfa.midChannels, 1, 1]);
  add('msfa.ffn.pw_proj.bn.weight', [msfa.outChannels]);
  add('msfa.norm.weight', [msfa.outChannels]);
  return tensors;
}

function addBlock(add: (name: string, shape: number[]) => void, block: ResolvedVisionBlock): void {
  const { path, spec, inChannels, midChannels, outChannels } = block;
  if (spec.kind === 'edge_residual') {
    add(`${path}.conv_exp.weight`, [midChannels, inChannels, spec.kernelSize, spec.kernelSize]);
    add(`${path}.bn1.weight`, [midChannels]);
    add(`${path}.conv_pwl.weight`, [outChannels, midChannels, 1, 1]);
    add(`${path}.bn2.weight`, [outChannels]);
    return;
  }
  if (spec.kind === 'universal_inverted_residual') {
    if (spec.startKernelSize > 0) {
      add(`${path}.dw_start.conv.weight`, [inChannels, 1, spec.startKernelSize, spec.startKernelSize]);
      add(`${path}.dw_start.bn.weight`, [inChannels]);
    }
    add(`${path}.pw_exp.conv.weight`, [midChannels, inChannels, 1, 1]);
    add(`${path}.pw_exp.bn.weight`, [midChannels]);
    if (spec.midKernelSize > 0) {
      add(`${path}.dw_mid.conv.weight`, [midChannels, 1, spec.midKernelSize, spec.midKernelSize]);
      add(`${path}.dw_mid.bn.weight`, [midChannels]);
    }
    add(`${path}.pw_proj.conv.weight`, [outChannels, midChannels, 1, 1]);
    add(`${path}.pw_proj.bn.weight`, [outChannels]);
    add(`${path}.layer_scale.gamma`, [outChannels]);
    return;
  }
  add(`${path}.norm.weight`, [inChannels]);
  add(`${path}.attn.query.proj.weight`, [spec.numHeads * spec.keyDim, inChannels, 1, 1]);
  for (const [branch, width] of [['key', spec.keyDim], ['value', spec.valueDim]] as const) {
    if (spec.kvStride > 1) {
      add(`${path}.attn.${branch}.down_conv.weight`, [inChannels, 1, spec.kvKernelSize, spec.kvKernelSize]);
      add(`${path}.attn.${branch}.norm.weight`, [inChannels]);
    }
    add(`${path}.attn.${branch}.proj.weight`, [width, inChannels, 1, 1]);
  }
  add(`${path}.attn.output.proj.weight`, [outChannels, spec.numHeads * spec.valueDim, 1, 1]);
  add(`${path}.layer_scale.gamma`, [outChannels]);
}
