/**
 * @gemma3n/decoder: the Gemma 3n text runtime. It drives the `embed_tokens` and
 * `decoder_model_merged` sessions with a KV cache, samples, streams and keeps chat sessions.
 * Browser-safe: no Node imports; sessions come from whichever backend created them.
 */
export { DecoderRuntime, type DecoderRuntimeConfig, type DecoderRuntimeParams, type ForwardOptions } from './runtime/decoder-runtime';
export { KvCache, commonPrefixLength } from './runtime/kv-cache';
export { type ModelSession, declaredInput } from './runtime/model-session';
export { castFloatTensor, float16BitsToNumber, numberToFloat16Bits, readFloats } from './runtime/tensor-data';
export {
  generateTokens,
  streamTokens,
  type FinishReason,
  type GenerateTokensParams,
  type GenerationDelta,
  type GenerationResult,
  type GenerationStats,
  type GenerationStream,
  type TokenModel,
} from './generation/generate-tokens';
export { type GenerationDefaults, type GenerationOptions, validateGenerationOptions } from './generation/generation-options';
export { IncrementalDetokenizer, type StreamingTextDecoder, type TokenTextDecoder } from './generation/incremental-detokenizer';
export { StopStringMatcher } from './generation/stop-strings';
export {
  ChatSession,
  type ChatMediaItem,
  type ChatTurnMedia,
  type ChatSessionParams,
  type ChatTemplate,
  type ChatTokenizer,
  type ConversationMessage,
} from './chat/chat-session';
export {
  resolveSamplingOptions,
  samplingDefaultsFromGenerationConfig,
  validateSamplingOptions,
  type ResolvedSamplingOptions,
  type SamplingOptions,
} from './sampling/sampling-options';
export { createTokenSampler, type TokenSampler, type TokenSamplerParams } from './sampling/token-sampler';
export { applyRepetitionPenalty, applyTemperature, argmax, maskTokensFrom } from './sampling/logits-processing';
export {
  candidateCutoff,
  candidateProbabilities,
  drawCandidate,
  drawFromLogits,
  selectCandidates,
  type CandidateFilterParams,
  type Candidates,
} from './sampling/candidate-filters';
export { createSeededRandom, randomSeed, type RandomSource } from './sampling/seeded-random';
export {
  loadDecoderRuntime,
  modelSourceOf,
  type LoadDecoderRuntimeParams,
  type LoadedDecoderRuntime,
} from './loading/load-decoder-runtime';
export {
  dtypeFor,
  dtypeSuffixes,
  onnxFileName,
  type DtypeChoice,
  type EncoderSessionName,
  type OnnxDtype,
  type SessionName,
  type TextSessionName,
} from './loading/onnx-file-names';
export {
  checkMediaCounts,
  checkMediaEmbeddings,
  type EncoderStats,
  type MediaEmbedding,
  type PreparedMedia,
} from './media/media-embeddings';
export {
  MediaEncoders,
  type EncodedRows,
  type EncoderAudioFeatures,
  type EncoderPixelValues,
  type MediaEncodersParams,
} from './media/media-encoders';
export { checkExternalData, externalDataRequirements } from './loading/external-data-check';
export {
  DEFAULT_MINIMUM_OFFLOAD_BYTES,
  OffloadedEmbedSession,
  PER_LAYER_TABLE_FORMAT,
  PerLayerTableReader,
  decodePerLayerRecord,
  offloadedEmbedFiles,
  parsePerLayerTableHeader,
  perLayerTableLayout,
  planPerLayerOffload,
  type PerLayerOffloadPlan,
  type PerLayerTableLayout,
  type PerLayerTableReaderOptions,
  type PerLayerTableReaderStats,
  type PleOffloadChoice,
} from './ple/index';
