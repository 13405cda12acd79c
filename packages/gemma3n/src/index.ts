/**
 * @gemma3n/gemma3n: Gemma 3n on-device in TypeScript. Browser-safe entry: load from a URL or
 * any ModelFiles with an injected or registered backend. In Node, `@gemma3n/gemma3n/node`
 * also loads directories and defaults to onnxruntime-node.
 */
export {
  Gemma3n,
  Gemma3nChat,
  createGemma3n,
  modelFilesFromSource,
  type CreateGemma3nParams,
  type Gemma3nLoadOptions,
  type Gemma3nResult,
  type Gemma3nStream,
} from './gemma3n';
export { type ChatMessage, type GenerateRequest, type Gemma3nGenerationOptions } from './generate-request';
export {
  type AudioInput,
  type AudioPart,
  type AudioSamplesInput,
  type ContentPart,
  type Gemma3nWarning,
  type ImageInput,
  type ImagePart,
  type MediaPart,
  type TextPart,
} from './media-inputs';
export { browserMediaLoaders, MediaPreprocessor, type MediaLoaders, type MediaPreprocessingOptions } from './media-preprocessor';
export { type PromptTokenizer } from './prompt-tokenizer';
export { readGenerationDefaults } from './generation-config';
export {
  type FinishReason,
  type GenerationDelta,
  type GenerationOptions,
  type GenerationResult,
  type GenerationStats,
  type GenerationStream,
  type SamplingOptions,
  type DtypeChoice,
  type OnnxDtype,
  type PleOffloadChoice,
} from '@gemma3n/decoder';
export { BackendError, ConfigError, InputError, ModelFileError, UnsupportedError, registerBackend, type Backend, type ModelFiles } from '@gemma3n/core';
