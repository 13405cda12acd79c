import type { Gemma3nTextConfig, LayerType } from './gemma3n-config-types';
import type { ConfigReader } from './config-reader';
import { kvSharingPlan } from './kv-sharing-plan';

const layerTypeNames: readonly LayerType[] = ['sliding_attention', 'full_attention'];

/** E2B values (architecture doc §1.1) for every field `config.json` leaves out. */
export const gemma3nTextDefaults = {
  vocabSize: 262_400,
  vocabSizePerLayerInput: 262_144,
  hiddenSize: 2048,
  hiddenSizePerLayerInput: 256,
  numHiddenLayers: 30,
  intermediateSize: 8192,
  numAttentionHeads: 8,
  numKeyValueHeads: 2,
  headDim: 256,
  numKvSharedLayers: 10,
  /** Sparsity of the first `sparseLayerCount` layers when no pattern is given (as in HF). */
  sparseLayerSparsity: 0.95,
  sparseLayerCount: 10,
  slidingWindow: 512,
  ropeTheta: 1_000_000,
  ropeLocalBaseFreq: 10_000,
  maxPositionEmbeddings: 32_768,
  rmsNormEps: 1e-6,
  altupNumInputs: 4,
  altupActiveIdx: 0,
  altupCoefClip: 120,
  altupCorrectScale: true,
  laurelRank: 64,
  hiddenActivation: 'gelu_pytorch_tanh',
  finalLogitSoftcapping: 30,
  tieWordEmbeddings: true,
  padTokenId: 0,
  eosTokenId: [1],
  bosTokenId: 2,
} as const;

/** The default layer types: every fifth layer (i + 1) % 5 == 0 is full attention. */
export function defaultLayerTypes(layerCount: number): LayerType[] {
  return Array.from({ length: layerCount }, (_, layer) =>
    (layer + 1) % 5 === 0 ? 'full_attention' : 'sliding_attention',
  );
}

/** Token ids that `config.json` may put on the top level instead of inside `text_config`. */
export interface TopLevelTokenIds {
  padTokenId?: unknown;
  eosTokenId?: unknown;
  bosTokenId?: unknown;
}

/**
 * Validates `text_config` into a complete Gemma3nTextConfig. `topLevel` supplies pad/eos/bos
 * when `text_config` lacks them (transformers.js reads text_config first, then the top level).
 */
export function parseTextConfig(reader: ConfigReader, topLevel: TopLevelTokenIds = {}): Gemma3nTextConfig {
  const defaults = gemma3nTextDefaults;
  if (reader.has('model_type') && reader.raw('model_type') !== 'gemma3n_text') {
    reader.failKey('model_type', reader.raw('model_type'), '"gemma3n_text"');
  }

  const vocabSize = reader.integer('vocab_size', defaults.vocabSize);
  const vocabSizePerLayerInput = reader.integer('vocab_size_per_layer_input', defaults.vocabSizePerLayerInput);
  if (vocabSizePerLayerInput > vocabSize) {
    reader.failKey('vocab_size_per_layer_input',
      vocabSizePerLayerInput,
      `at most vocab_size (${vocabSize})`,
    );
  }
  const hiddenSize = reader.integer('hidden_size', defaults.hiddenSize);
  const hiddenSizePerLayerInput = reader.integer('hidden_size_per_layer_input', defaults.hiddenSizePerLayerInput);
  const numHiddenLayers = reader.integer('num_hidden_layers', defaults.numHiddenLayers);

  const numAttentionHeads = reader.integer('num_attention_heads', defaults.numAttentionHeads);
  const numKeyValueHeads = reader.integer('num_key_value_heads', defaults.numKeyValueHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    reader.failKey('num_key_value_heads',
      numKeyValueHeads,
      `a divisor of num_attention_heads (${numAttentionHeads})`,
    );
  }
  // HF's own config check; the attention itself only needs head_dim.
  if (hiddenSize % numAttentionHeads !== 0) {
    reader.failKey('hidden_size', hiddenSize, `a multiple of num_attention_heads (${numAttentionHeads})`);
  }
  const headDim = reader.integer('head_dim', defaults.headDim);
  // rotate_half RoPE splits every head in two halves.
  if (headDim % 2 !== 0) reader.failKey('head_dim', headDim, 'an even positive integer (RoPE)');

  const intermediateSize = readPerLayerList(reader, 'intermediate_size', numHiddenLayers, defaults.intermediateSize, (field, value) =>
    reader.checkInteger(field, value),
  );
  const activationSparsityPattern = reader.has('activation_sparsity_pattern')
    ? readPerLayerList(reader, 'activation_sparsity_pattern', numHiddenLayers, 0, (field, value) =>
        reader.checkNumber(field, value, { atLeast: 0, lessThan: 1 }),
      )
    : defaultSparsity(numHiddenLayers);
  const layerTypes = reader.has('layer_types')
    ? readPerLayerList(reader, 'layer_types', numHiddenLayers, 'sliding_attention', (field, value) => {
        if (!layerTypeNames.includes(value as LayerType)) {
          reader.fail(field, value, '"sliding_attention" or "full_attention"');
        }
        return value as LayerType;
      })
    : defaultLayerTypes(numHiddenLayers);

  const numKvSharedLayers = reader.integer('num_kv_shared_layers', defaults.numKvSharedLayers, 0);
  if (numKvSharedLayers >= numHiddenLayers) {
    reader.failKey('num_kv_shared_layers',
      numKvSharedLayers,
      `fewer than num_hidden_layers (${numHiddenLayers})`,
    );
  }

  const rope = readRope(reader);
  const altupNumInputs = reader.integer('altup_num_inputs', defaults.altupNumInputs, 2);
  const altupActiveIdx = reader.integer('altup_active_idx', defaults.altupActiveIdx, 0);
  if (altupActiveIdx >= altupNumInputs) {
    reader.failKey('altup_active_idx', altupActiveIdx, `less than altup_num_inputs (${altupNumInputs})`);
  }

  const text: Gemma3nTextConfig = {
    vocabSize,
    vocabSizePerLayerInput,
    hiddenSize,
    hiddenSizePerLayerInput,
    numHiddenLayers,
    intermediateSize,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    numKvSharedLayers,
    activationSparsityPattern,
    layerTypes,
    slidingWindow: reader.integer('sliding_window', defaults.slidingWindow),
    ropeTheta: rope.full,
    ropeLocalBaseFreq: rope.sliding,
    maxPositionEmbeddings: reader.integer('max_position_embeddings', defaults.maxPositionEmbeddings),
    rmsNormEps: reader.number('rms_norm_eps', defaults.rmsNormEps, { greaterThan: 0, lessThan: 1 }),
    altupNumInputs,
    altupActiveIdx,
    altupCoefClip: reader.nullableNumber('altup_coef_clip', defaults.altupCoefClip, { greaterThan: 0 }),
    altupCorrectScale: reader.boolean('altup_correct_scale', defaults.altupCorrectScale),
    laurelRank: reader.integer('laurel_rank', defaults.laurelRank),
    hiddenActivation: reader.string('hidden_activation', defaults.hiddenActivation),
    finalLogitSoftcapping: reader.nullableNumber('final_logit_softcapping', defaults.finalLogitSoftcapping, {
      greaterThan: 0,
    }),
    attnLogitSoftcapping: reader.nullableNumber('attn_logit_softcapping', null, { greaterThan: 0 }),
    tieWordEmbeddings: reader.boolean('tie_word_embeddings', defaults.tieWordEmbeddings),
    padTokenId: readTokenId(reader, 'pad_token_id', topLevel.padTokenId, defaults.padTokenId, vocabSize),
    eosTokenId: readEosTokenIds(reader, topLevel.eosTokenId, vocabSize),
    bosTokenId: readTokenId(reader, 'bos_token_id', topLevel.bosTokenId, defaults.bosTokenId, vocabSize),
  };
  // Throws when a shared layer has no producer of its type.
  kvSharingPlan(text);
  return text;
}

function defaultSparsity(layerCount: number): number[] {
  const defaults = gemma3nTextDefaults;
  // HF: the first 10 layers are sparse, but only when the model has more than 10 layers.
  const sparseCount = layerCount > defaults.sparseLayerCount ? defaults.sparseLayerCount : 0;
  return Array.from({ length: layerCount }, (_, layer) => (layer < sparseCount ? defaults.sparseLayerSparsity : 0));
}

/** A per-layer field given as one value for all layers or as a list of exactly L values. */
function readPerLayerList<T>(
  reader: ConfigReader,
  key: string,
  layerCount: number,
  fallback: T,
  readElement: (field: string, value: unknown) => T,
): T[] {
  if (!reader.has(key)) return new Array<T>(layerCount).fill(fallback);
  const value = reader.raw(key);
  if (!Array.isArray(value)) {
    const single = readElement(reader.path(key), value);
    return new Array<T>(layerCount).fill(single);
  }
  if (value.length !== layerCount) {
    reader.fail(reader.path(key), value, `one value, or a list of ${layerCount} values (num_hidden_layers)`);
  }
  return reader.list(key, readElement);
}

/**
 * RoPE bases per layer type. The newer `rope_parameters: {full_attention: {rope_theta},
 * sliding_attention: {rope_theta}}` wins over the older flat `rope_theta` /
 * `rope_local_base_freq`, which fill whatever it leaves out (HF's `setdefault` order).
 */
function readRope(reader: ConfigReader): { full: number; sliding: number } {
  const defaults = gemma3nTextDefaults;
  const positive = { greaterThan: 0 };
  let full = reader.number('rope_theta', defaults.ropeTheta, positive);
  let sliding = reader.number('rope_local_base_freq', defaults.ropeLocalBaseFreq, positive);
  const parameters = reader.child('rope_parameters');
  if (parameters !== undefined) {
    if (parameters.has('rope_theta') || parameters.has('rope_type')) {
      reader.fail(
        parameters.path('rope_theta'),
        parameters.raw('rope_theta') ?? parameters.raw('rope_type'),
        'rope_parameters keyed by layer type ({"full_attention": {...}, "sliding_attention": {...}})',
      );
    }
    for (const key of Object.keys(parameters.object)) {
      if (!layerTypeNames.includes(key as LayerType)) {
        reader.fail(parameters.path(key), parameters.raw(key), 'only the keys "full_attention" and "sliding_attention"');
      }
    }
    const fullParameters = parameters.child('full_attention');
    const slidingParameters = parameters.child('sliding_attention');
    for (const layerParameters of [fullParameters, slidingParameters]) {
      if (layerParameters === undefined) continue;
      const ropeType = layerParameters.string('rope_type', 'default');
      if (ropeType !== 'default') {
        reader.fail(layerParameters.path('rope_type'), ropeType, '"default" (RoPE scaling is not supported)');
      }
    }
    if (fullParameters !== undefined) full = fullParameters.number('rope_theta', full, positive);
    if (slidingParameters !== undefined) sliding = slidingParameters.number('rope_theta', sliding, positive);
  }
  if (reader.has('rope_scaling')) {
    reader.failKey('rope_scaling', reader.raw('rope_scaling'), 'null (RoPE scaling is not supported)');
  }
  return { full, sliding };
}

function checkTokenId(reader: ConfigReader, field: string, value: unknown, vocabSize: number): number {
  const id = reader.checkInteger(field, value, 0);
  if (id >= vocabSize) reader.fail(field, value, `a token id below vocab_size (${vocabSize})`);
  return id;
}

function readTokenId(
  reader: ConfigReader,
  key: string,
  topLevelValue: unknown,
  fallback: number,
  vocabSize: number,
): number {
  if (reader.has(key)) return checkTokenId(reader, reader.path(key), reader.raw(key), vocabSize);
  if (topLevelValue !== undefined && topLevelValue !== null) return checkTokenId(reader, key, topLevelValue, vocabSize);
  return fallback;
}

/** `eos_token_id` as one id or a list of ids; always returned as a non-empty list. */
function readEosTokenIds(reader: ConfigReader, topLevelValue: unknown, vocabSize: number): number[] {
  const key = 'eos_token_id';
  let field: string;
  let value: unknown;
  if (reader.has(key)) {
    field = reader.path(key);
    value = reader.raw(key);
  } else if (topLevelValue !== undefined && topLevelValue !== null) {
    field = key;
    value = topLevelValue;
  } else {
    return [...gemma3nTextDefaults.eosTokenId];
  }
  if (!Array.isArray(value)) return [checkTokenId(reader, field, value, vocabSize)];
  if (value.length === 0) reader.fail(field, value, 'a token id or a non-empty list of token ids');
  return value.map((id, index) => checkTokenId(reader, `${field}[${index}]`, id, vocabSize));
}
