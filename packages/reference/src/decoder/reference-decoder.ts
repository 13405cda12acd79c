import { InputError, UnsupportedError, type Gemma3nConfig, type Gemma3nTextConfig } from '@gemma3n/core';
import { softcap } from '../blocks/activations';
import { projectToMagnitude } from '../blocks/altup';
import { kvSourceLayerIndex } from '../blocks/kv-sharing';
import { linear, meanOfSquares } from '../blocks/linear';
import { rmsNorm } from '../blocks/rms-norm';
import type { LayerKeyValues } from '../blocks/self-attention';
import { readWeight, textWeightName, type WeightLookup } from '../weight-lookup';
import { decoderLayer, type TokenStreams } from './decoder-layer';
import { readLayerWeights } from './layer-weights';

/** Rejects configs this reference cannot run faithfully, before any tensor is read. */
export function checkTextConfig(text: Gemma3nTextConfig): void {
  if (text.hiddenActivation !== 'gelu_pytorch_tanh') {
    throw new UnsupportedError({ feature: 'text_config.hidden_activation', value: text.hiddenActivation, supported: ['gelu_pytorch_tanh'] });
  }
  if (text.numAttentionHeads % text.numKeyValueHeads !== 0) {
    throw new InputError({ field: 'config.text.numAttentionHeads', value: text.numAttentionHeads, expected: `a multiple of numKeyValueHeads (${text.numKeyValueHeads})` });
  }
  if (text.headDim % 2 !== 0) {
    throw new InputError({ field: 'config.text.headDim', value: text.headDim, expected: 'an even number (RoPE rotates halves)' });
  }
  if (!(text.altupActiveIdx >= 0 && text.altupActiveIdx < text.altupNumInputs)) {
    throw new InputError({ field: 'config.text.altupActiveIdx', value: text.altupActiveIdx, expected: `an index below altupNumInputs (${text.altupNumInputs})` });
  }
  for (const [field, list] of [['layerTypes', text.layerTypes], ['intermediateSize', text.intermediateSize], ['activationSparsityPattern', text.activationSparsityPattern]] as const) {
    if (list.length !== text.numHiddenLayers) {
      throw new InputError({ field: `config.text.${field}`, value: list, expected: `one entry per layer (${text.numHiddenLayers})` });
    }
  }
}

/**
 * §1.3 steps 5–6, in the decoder per the folder contract: for each token,
 * `PLI = (RMSNorm_P(reshape(per_layer_model_projection(E) · D^-0.5, [L, P])) + perLayerInputs) · 2^-0.5`.
 * Checked against HF `project_per_layer_inputs` (one P-wide norm weight shared by all layers).
 */
export function combinePerLayerInputs(text: Gemma3nTextConfig, weights: WeightLookup, inputsEmbeds: Float32Array, perLayerInputs: Float32Array, sequenceLength: number): Float32Array {
  const { hiddenSize, numHiddenLayers: layerCount, hiddenSizePerLayerInput: perLayerSize } = text;
  const width = layerCount * perLayerSize;
  const projection = readWeight(weights, textWeightName('per_layer_model_projection.weight'), [width, hiddenSize]);
  const norm = readWeight(weights, textWeightName('per_layer_projection_norm.weight'), [perLayerSize]);
  const combined = new Float32Array(sequenceLength * width);
  const projectionScale = 1 / Math.sqrt(hiddenSize);
  for (let position = 0; position < sequenceLength; position++) {
    const projected = linear(projection, inputsEmbeds, hiddenSize, width, position * hiddenSize);
    for (let index = 0; index < width; index++) projected[index] = projected[index]! * projectionScale;
    const normed = rmsNorm(projected, norm, text.rmsNormEps, perLayerSize);
    for (let index = 0; index < width; index++) {
      combined[position * width + index] = (normed[index]! + perLayerInputs[position * width + index]!) * Math.SQRT1_2;
    }
  }
  return combined;
}

/** §1.4: stream 0 is E; stream i is altup_projections[i−1](E) rescaled to E's RMS. */
export function initialiseStreams(text: Gemma3nTextConfig, weights: WeightLookup, inputsEmbeds: Float32Array, sequenceLength: number): TokenStreams {
  const { hiddenSize, altupNumInputs: streamCount } = text;
  const projections = Array.from({ length: streamCount - 1 }, (_, index) =>
    readWeight(weights, textWeightName(`altup_projections.${index}.weight`), [hiddenSize, hiddenSize]),
  );
  const streams: TokenStreams = [];
  for (let position = 0; position < sequenceLength; position++) {
    const embedding = inputsEmbeds.slice(position * hiddenSize, (position + 1) * hiddenSize);
    const targetRms = Math.sqrt(meanOfSquares(embedding));
    streams.push([embedding, ...projections.map((projection) => projectToMagnitude(projection, embedding, targetRms))]);
  }
  return streams;
}

/**
 * §1.9 for one token: unembed streams 1.. to stream 0's RMS, average the N streams, final norm,
 * tied lm_head (embed_tokens rows, or lm_head.weight when not tied), final softcap.
 */
export function outputLogits(text: Gemma3nTextConfig, unembedProjections: Float32Array[], finalNorm: Float32Array, head: Float32Array, tokenStreams: Float32Array[]): Float32Array {
  const { hiddenSize, altupNumInputs: streamCount, vocabSize } = text;
  const first = tokenStreams[0]!;
  const targetRms = Math.sqrt(meanOfSquares(first));
  const unembedded = [first, ...unembedProjections.map((projection, index) => projectToMagnitude(projection, tokenStreams[index + 1]!, targetRms))];
  const averaged = new Float32Array(hiddenSize);
  for (let index = 0; index < hiddenSize; index++) {
    let sum = 0;
    for (const stream of unembedded) sum += stream[index]!;
    averaged[index] = sum / streamCount;
  }
  const hidden = rmsNorm(averaged, finalNorm, text.rmsNormEps);
  const logits = linear(head, hidden, hiddenSize, vocabSize);
  for (let index = 0; index < vocabSize; index++) logits[index] = softcap(logits[index]!, text.finalLogitSoftcapping);
  return logits;
}

/** Optional hooks for parity debugging; they do not change the result. */
export interface ReferenceDecoderOptions {
  /** Called after each decoder layer with its output streams, `streams[t][i]` of width D. */
  onLayerOutput?: (layerIndex: number, streams: TokenStreams) => void;
  /**
   * Called for each layer that computes its own K/V (every layer below F), with keys after
   * k_norm and RoPE and values after v_norm, laid out [T, Hkv, hd]: the content of the graph's
   * `present.{layer}.key/value` [1, Hkv, T, hd] after a transpose.
   */
  onLayerKeyValues?: (layerIndex: number, keyValues: LayerKeyValues) => void;
}

/**
 * The decoder session of the folder contract: `inputsEmbeds` [T, D] and `perLayerInputs`
 * [T, L, P] (raw table lookup × sqrt(P)) to logits [T, V], positions 0..T−1, no past.
 * KV-shared layers always read their producer's K/V (§1.7), as a runtime with a cache does.
 */
export function referenceDecoder(
  config: Gemma3nConfig,
  weights: WeightLookup,
  inputsEmbeds: Float32Array,
  perLayerInputs: Float32Array,
  seqLen: number,
  options: ReferenceDecoderOptions = {},
): Float32Array {
  const text = config.text;
  checkTextConfig(text);
  const { hiddenSize, numHiddenLayers: layerCount, hiddenSizePerLayerInput: perLayerSize, vocabSize } = text;
  if (!(Number.isInteger(seqLen) && seqLen > 0)) {
    throw new InputError({ field: 'seqLen', value: seqLen, expected: 'a positive integer' });
  }
  if (inputsEmbeds.length !== seqLen * hiddenSize) {
    throw new InputError({ field: 'inputsEmbeds.length', value: inputsEmbeds.length, expected: `seqLen × hiddenSize = ${seqLen * hiddenSize}` });
  }
  if (perLayerInputs.length !== seqLen * layerCount * perLayerSize) {
    throw new InputError({ field: 'perLayerInputs.length', value: perLayerInputs.length, expected: `seqLen × L × P = ${seqLen * layerCount * perLayerSize}` });
  }

  const combined = combinePerLayerInputs(text, weights, inputsEmbeds, perLayerInputs, seqLen);
  let streams = initialiseStreams(text, weights, inputsEmbeds, seqLen);
  const keyValuesByLayer = new Map<number, LayerKeyValues>();
  const layerInput = new Float32Array(seqLen * perLayerSize);
  for (let layerIndex = 0; layerIndex < layerCount; layerIndex++) {
    for (let position = 0; position < seqLen; position++) {
      const start = (position * layerCount + layerIndex) * perLayerSize;
      layerInput.set(combined.subarray(start, start + perLayerSize), position * perLayerSize);
    }
    const sourceLayer = kvSourceLayerIndex(text, layerIndex);
    const shared = sourceLayer === layerIndex ? null : keyValuesByLayer.get(sourceLayer)!;
    const result = decoderLayer(text, layerIndex, readLayerWeights(text, weights, layerIndex), streams, layerInput, shared);
    if (result.ownKeyValues !== null) {
      keyValuesByLayer.set(layerIndex, result.ownKeyValues);
      options.onLayerKeyValues?.(layerIndex, result.ownKeyValues);
    }
    streams = result.streams;
    options.onLayerOutput?.(layerIndex, streams);
  }

  const unembedProjections = Array.from({ length: text.altupNumInputs - 1 }, (_, index) =>
    readWeight(weights, textWeightName(`altup_unembed_projections.${index}.weight`), [hiddenSize, hiddenSize]),
  );
  const finalNorm = readWeight(weights, textWeightName('norm.weight'), [hiddenSize]);
  const head = text.tieWordEmbeddings
    ? readWeight(weights, textWeightName('embed_tokens.weight'), [vocabSize, hiddenSize])
    : readWeight(weights, 'lm_head.weight', [vocabSize, hiddenSize]);
  const logits = new Float32Array(seqLen * vocabSize);
  for (let position = 0; position < seqLen; position++) {
    logits.set(outputLogits(text, unembedProjections, finalNorm, head, streams[position]!), position * vocabSize);
  }
  return logits;
}
