/**
 * Typed, complete Gemma 3n configuration. Every field is filled: values missing from
 * `config.json` take the defaults of the architecture doc (E2B). Field names are the
 * camelCase forms of the Hugging Face keys.
 */

export type LayerType = 'sliding_attention' | 'full_attention';

export interface Gemma3nTextConfig {
  vocabSize: number; // embedding + lm_head rows (262400)
  vocabSizePerLayerInput: number; // PLE table rows (262144)
  hiddenSize: number; // D
  hiddenSizePerLayerInput: number; // P
  numHiddenLayers: number; // L
  intermediateSize: number[]; // one per layer (a scalar in config.json is expanded)
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  numKvSharedLayers: number;
  activationSparsityPattern: number[]; // one per layer
  layerTypes: LayerType[]; // one per layer
  slidingWindow: number;
  ropeTheta: number; // full-attention layers
  ropeLocalBaseFreq: number; // sliding layers
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  altupNumInputs: number;
  altupActiveIdx: number;
  altupCoefClip: number | null;
  altupCorrectScale: boolean;
  laurelRank: number;
  hiddenActivation: string; // 'gelu_pytorch_tanh'
  finalLogitSoftcapping: number | null;
  attnLogitSoftcapping: number | null;
  tieWordEmbeddings: boolean;
  padTokenId: number;
  eosTokenId: number[];
  bosTokenId: number;
}

export interface Gemma3nVisionConfig {
  hiddenSize: number; // 2048
  vocabSize: number; // 128
  vocabOffset: number; // 262144
  rmsNormEps: number;
  /** Raw config object, for builders that need architecture-specific keys. */
  raw: Record<string, unknown>;
}

export interface Gemma3nAudioConfig {
  hiddenSize: number; // 1536
  vocabSize: number; // 128
  vocabOffset: number; // 262272
  rmsNormEps: number;
  inputFeatSize: number; // 128
  confNumAttentionHeads: number;
  confNumHiddenLayers: number;
  confAttentionChunkSize: number;
  confAttentionContextLeft: number;
  confAttentionContextRight: number;
  confAttentionLogitCap: number;
  confConvKernelSize: number;
  confReductionFactor: number;
  sscpConvChannelSize: number[];
  sscpConvKernelSize: number[][];
  sscpConvStrideSize: number[][];
  sscpConvGroupNormEps: number;
  /** Raw config object, for builders that need architecture-specific keys. */
  raw: Record<string, unknown>;
}

export interface Gemma3nConfig {
  modelType: 'gemma3n';
  architectures: string[];
  imageTokenId: number; // 262145
  audioTokenId: number; // 262273
  boiTokenId: number;
  eoiTokenId: number;
  boaTokenId: number;
  eoaTokenId: number;
  visionSoftTokensPerImage: number; // 256
  audioSoftTokensPerImage: number; // 188
  text: Gemma3nTextConfig;
  vision: Gemma3nVisionConfig | null;
  audio: Gemma3nAudioConfig | null;
  /** The parsed JSON as read, so writers can round-trip unknown keys. */
  raw: Record<string, unknown>;
}
