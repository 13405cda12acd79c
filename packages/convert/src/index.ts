/**
 * @gemma3n/convert (Node only): Hugging Face Gemma 3n checkpoints → the ONNX model folder that
 * transformers.js and @gemma3n/gemma3n load; safetensors I/O; seeded random checkpoints.
 */
export * from './tensor-source';
export * from './safetensors/index';
export * from './checkpoint/index';
export {
  convertCheckpoint,
  outputConfig,
  countExternalData,
  type ConvertCheckpointOptions,
  type ConvertCheckpointResult,
  type ConvertProgressEvent,
  type GraphWriter,
} from './convert-checkpoint';
export { validateCheckpointTensors, type TensorProblem } from './convert-validation';
export { defaultGenerationConfig, defaultProcessorConfig, defaultPreprocessorConfig, visionImageSize } from './convert-folder-defaults';
export { checkpointTowers, expectedTowerTensors, writeTowerGraphs, type CheckpointTowers, type WriteTowerGraphsOptions } from './convert-towers';
export { makeTinyModel, loadRealGemma3nTokenizerFiles, type MakeTinyModelOptions } from './convert-make-tiny-model';
export {
  writeTextGraphs,
  EMBED_TOKENS_FILE,
  DECODER_FILE,
  type WriteTextGraphsOptions,
  type TextGraphProgress,
} from './text/write-text-graphs';
export * from './ple/index';
export {
  opsetsWithEncoding,
  type WeightEncoding,
  type WeightRowReader,
  type LinearEncodingRequest,
  type GatherEncodingRequest,
} from './text/weight-encoding';
export type { GraphScope, InitializerData, NodeOptions } from './onnx/onnx-graph-builder';
