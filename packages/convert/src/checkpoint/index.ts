export {
  expectedCheckpointTensors,
  TEXT_PREFIX,
  VISION_EMBEDDER_PREFIX,
  AUDIO_EMBEDDER_PREFIX,
  type ExpectedTensor,
} from './expected-checkpoint-tensors';
export {
  TINY_TEXT_SHAPES,
  TINY_SHAPE_NAMES,
  TINY_SHAPES_WITH_TOWERS,
  buildTinyConfig,
  e2bShapeConfig,
  tinyShapeConfig,
  type RawConfig,
  type TinyShapeName,
} from './tiny-text-shapes';
export { randomCheckpointWeights, type RandomCheckpointOptions } from './random-checkpoint-weights';
export { RandomNumberGenerator, tensorSeed } from './random-number-generator';
export {
  buildSyntheticTokenizerFiles,
  GEMMA3N_CHAT_TEMPLATE,
  SYNTHETIC_TOKENIZER_MIN_BASE_VOCAB,
  type TokenizerFiles,
} from './synthetic-tokenizer';
export {
  writeRandomCheckpoint,
  type CheckpointTokenizerFiles,
  type RandomCheckpoint,
  type WriteRandomCheckpointOptions,
} from './write-random-checkpoint';
export { SyntheticTensorSource } from './synthetic-tensor-source';
export { tensorDistribution } from './random-checkpoint-weights';
