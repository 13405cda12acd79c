import { ConfigError, type Gemma3nConfig } from '@gemma3n/core';
import { referenceEmbedSoftTokens } from '../embedding/multimodal-embedder';
import type { WeightLookup } from '../weight-lookup';
import { featureMap, type FeatureMap } from './feature-map';
import {
  edgeResidual,
  makeDivisible,
  mobileAttention,
  multiScaleFusion,
  stem,
  universalInvertedResidual,
  VISION_TOWER_PREFIX,
  type ReferenceVisionArchitecture,
} from './mobilenet-v5-blocks';

/**
 * The features of one image [inChannels, S, S] (pixel values in [0, 1]) that the MSFA can
 * fuse: index 0 is the stem output, s + 1 the output of stage s (timm's feature numbering).
 */
export function referenceVisionFeatures(architecture: ReferenceVisionArchitecture, weights: WeightLookup, image: FeatureMap): FeatureMap[] {
  const epsilon = architecture.normEpsilon;
  const at = (path: string) => ({ weights, prefix: `${VISION_TOWER_PREFIX}${path}`, epsilon });
  let x = stem(at('conv_stem.'), image, makeDivisible(architecture.stemSize));
  const features: FeatureMap[] = [x];
  architecture.stages.forEach((stage, stageIndex) => {
    stage.forEach((blockSpec, index) => {
      const block = at(`blocks.${stageIndex}.${index}.`);
      const spec = { ...blockSpec, outChannels: makeDivisible(blockSpec.outChannels) };
      if (spec.kind === 'edge_residual') x = edgeResidual(block, x, spec);
      else if (spec.kind === 'universal_inverted_residual') x = universalInvertedResidual(block, x, spec);
      else x = mobileAttention(block, x, spec);
    });
    features.push(x);
  });
  return features;
}

/**
 * The whole MobileNetV5 encoder on one image: the features above, then the MSFA over those
 * named by `msfaIndices` (negative counts from the end, as timm's `feature_take_indices`).
 * Returns [outChannels, R, R].
 */
export function referenceVisionTower(architecture: ReferenceVisionArchitecture, weights: WeightLookup, image: FeatureMap): FeatureMap {
  const features = referenceVisionFeatures(architecture, weights, image);
  const fused = architecture.msfaIndices.map((index) => {
    const feature = features[index < 0 ? features.length + index : index];
    if (feature === undefined) throw new RangeError(`msfa index ${index} is outside the ${features.length} features`);
    return feature;
  });
  const msfa = { weights, prefix: `${VISION_TOWER_PREFIX}msfa.`, epsilon: architecture.normEpsilon };
  return multiScaleFusion(msfa, fused, architecture.outChannels, architecture.msfaOutputResolution);
}

/**
 * What `vision_encoder.onnx` computes (HF `Gemma3nModel.get_image_features`): for each of the
 * `batch` images in `pixels` [batch, 3, S, S], the tower output [C, R, R] read as R² tokens of
 * C values (token = row-major pixel), times sqrt(vision hidden), through embed_vision's soft
 * path. Returns [batch, R², D] row-major.
 */
export function referenceVisionEncoder(
  config: Gemma3nConfig,
  architecture: ReferenceVisionArchitecture,
  weights: WeightLookup,
  pixels: Float32Array,
  batch: number,
): Float32Array {
  if (config.vision === null) throw new ConfigError({ field: 'vision_config', value: null, expected: 'a vision config' });
  const hidden = config.vision.hiddenSize;
  if (architecture.outChannels !== hidden) {
    throw new ConfigError({ field: 'vision_config.hidden_size', value: hidden, expected: `${architecture.outChannels}, the tower's output channels` });
  }
  const side = architecture.imageSize;
  const imageLength = architecture.inChannels * side * side;
  if (pixels.length !== batch * imageLength) {
    throw new RangeError(`pixels hold ${pixels.length} values, expected ${batch}×${architecture.inChannels}×${side}×${side}`);
  }
  const tokenCount = architecture.msfaOutputResolution ** 2;
  const textHidden = config.text.hiddenSize;
  const output = new Float32Array(batch * tokenCount * textHidden);
  const scale = Math.sqrt(hidden);
  for (let image = 0; image < batch; image++) {
    const input = featureMap(architecture.inChannels, side, side, pixels.slice(image * imageLength, (image + 1) * imageLength));
    const tower = referenceVisionTower(architecture, weights, input);
    const tokens = new Float32Array(tokenCount * hidden);
    for (let channel = 0; channel < hidden; channel++) {
      for (let token = 0; token < tokenCount; token++) tokens[token * hidden + channel] = tower.data[channel * tokenCount + token]! * scale;
    }
    output.set(referenceEmbedSoftTokens(config, weights, 'vision', tokens, tokenCount), image * tokenCount * textHidden);
  }
  return output;
}
