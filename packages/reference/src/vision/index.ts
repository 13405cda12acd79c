/**
 * The vision encoder reference (§3): MobileNetV5 blocks as pure functions over CHW feature maps,
 * the whole tower, and the embedder → [N, tokens, D].
 */
export {
  type FeatureMap,
  averagePool,
  concatChannels,
  conv2dSame,
  featureMap,
  nearestResize,
  rmsNorm2d,
  samePadding,
} from './feature-map';
export {
  type BlockWeights,
  type ReferenceVisionArchitecture,
  type ReferenceVisionBlockSpec,
  edgeResidual,
  mobileAttention,
  multiQueryAttention2d,
  multiScaleFusion,
  stem,
  universalInvertedResidual,
} from './mobilenet-v5-blocks';
export { referenceVisionEncoder, referenceVisionFeatures, referenceVisionTower } from './reference-vision-encoder';
