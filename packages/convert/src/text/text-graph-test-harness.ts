import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { referenceDecoder, referenceEmbed } from '@gemma3n/reference';
import type * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { TINY_TEXT_SHAPES, tinyShapeConfig, type TinyShapeName } from '../checkpoint/tiny-text-shapes';
import type { InMemoryTensorSource, TensorSource } from '../tensor-source';
import {
  emptyPast,
  int64,
  openTextGraphSessions,
  presentsAsPast,
  releaseTextGraphSessions,
  runTextGraphs,
  type TextGraphSessions,
} from './text-graph-sessions';
import { writeTextGraphs, type WriteTextGraphsOptions } from './write-text-graphs';

/**
 * Test scaffolding shared by the compat (`text-graphs*.test.ts`) and optimized
 * (`../text-optimized/optimized-text-graphs*.test.ts`) suites: a tiny model written with
 * `writeTextGraphs` and opened (text-graph-sessions.ts), the reference logits, and the checks
 * both profiles must pass with their relative errors recorded.
 */

/** Acceptance bar (fp32): max|a − b| ≤ 1e-4 · max|b| over a whole logits (or embeddings) tensor. */
export const RELATIVE_TOLERANCE = 1e-4;

/** max|a − b| / max|b|; a NaN in `actual` makes it NaN, which fails every bar. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let maxDifference = 0;
  let maxMagnitude = 0;
  for (let index = 0; index < expected.length; index++) {
    const difference = Math.abs(actual[index]! - expected[index]!);
    if (!(difference <= maxDifference)) maxDifference = difference; // NaN propagates as failure
    maxMagnitude = Math.max(maxMagnitude, Math.abs(expected[index]!));
  }
  return maxDifference / maxMagnitude;
}

/** Worst relative error per check, printed at the end of a suite so the report can quote it. */
export class WorstErrors {
  private readonly worst = new Map<string, number>();

  /** Records the relative error for the summary without asserting it. */
  measure(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): number {
    const error = relativeError(actual, expected);
    this.worst.set(label, Math.max(this.worst.get(label) ?? 0, error));
    return error;
  }

  expectClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = RELATIVE_TOLERANCE): void {
    const error = this.measure(label, actual, expected);
    expect(error, `${label}: relative error ${error}`).toBeLessThanOrEqual(tolerance);
  }

  /** `<title> (tolerance …):` and a line per check. */
  summary(title: string): string {
    const lines = [...this.worst.entries()].map(([kind, error]) => `  ${kind}: worst relative error ${error.toExponential(2)}`);
    return `${title} (tolerance ${RELATIVE_TOLERANCE}):\n${lines.join('\n')}`;
  }
}

/** Rows [start, end) of a [rows, width] array. */
export function rows(data: Float32Array, width: number, start: number, end: number): Float32Array {
  return data.subarray(start * width, end * width);
}

/** A prompt of `length` ids with text ids, ids ≥ the PLE vocabulary and both hard-token ranges. */
export function promptFor(config: Gemma3nConfig, length: number): number[] {
  const special = [config.vision!.vocabOffset + 3, config.audio!.vocabOffset + 5, config.vision!.vocabOffset, config.audio!.vocabOffset + config.audio!.vocabSize - 1];
  const ids: number[] = [2];
  let state = 12345;
  while (ids.length < length) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    ids.push(ids.length % 5 === 3 && special.length > 0 ? special.shift()! : state % config.text.vocabSizePerLayerInput);
  }
  return ids;
}

/** The reference logits of `prompt` at every position, [S, V]. */
export function referenceLogitsOf(config: Gemma3nConfig, weights: InMemoryTensorSource, prompt: number[]): Float32Array {
  const embedded = referenceEmbed(config, (name) => weights.get(name), prompt);
  return referenceDecoder(config, (name) => weights.get(name), embedded.inputsEmbeds, embedded.perLayerInputs, prompt.length);
}

/** A named tiny shape written to a temporary folder and opened, with a prompt longer than twice the window. */
export interface TinyTextGraphs {
  name: TinyShapeName;
  directory: string;
  weights: InMemoryTensorSource;
  files: string[];
  model: TextGraphSessions;
  prompt: number[];
  referenceLogits: Float32Array;
}

export async function loadTinyTextGraphs(name: TinyShapeName, options: WriteTextGraphsOptions): Promise<TinyTextGraphs> {
  const directory = await mkdtemp(join(tmpdir(), `${options.graph === 'optimized' ? 'optimized-' : ''}text-graphs-${name}-`));
  const raw = TINY_TEXT_SHAPES[name];
  const config = parseGemma3nConfig(raw);
  const weights = randomCheckpointWeights(raw, { seed: 7 });
  const { files } = await writeTextGraphs(config, weights, directory, options);
  const model = await openTextGraphSessions(directory, config);
  const prompt = promptFor(config, 2 * config.text.slidingWindow + 3);
  return { name, directory, weights, files, model, prompt, referenceLogits: referenceLogitsOf(config, weights, prompt) };
}

export async function removeTinyTextGraphs(loaded: TinyTextGraphs | undefined): Promise<void> {
  await releaseTextGraphSessions(loaded?.model);
  if (loaded) await rm(loaded.directory, { recursive: true, force: true });
}

/**
 * The numeric checks both profiles pass on a loaded tiny model, errors recorded in `errors`
 * under `<shape>: <check>`. `prefillAllPositions` runs first: the later checks compare with
 * its logits (the "full recompute").
 */
export class TextGraphChecks {
  private fullLogits: Float32Array | undefined;

  constructor(
    private readonly loaded: TinyTextGraphs,
    private readonly errors: WorstErrors,
  ) {}

  private get full(): Float32Array {
    if (!this.fullLogits) throw new Error('prefillAllPositions must run first');
    return this.fullLogits;
  }

  private prefill(ids: number[], keep: number): Promise<ort.InferenceSession.OnnxValueMapType> {
    return runTextGraphs(this.loaded.model, ids, 0, keep, emptyPast(this.loaded.model, 1));
  }

  /** The model-folder contract's inputs and outputs, K/V only for the layers below the first shared one. */
  contractInputsAndOutputs(): void {
    const { model } = this.loaded;
    const { text } = model.config;
    const firstShared = text.numHiddenLayers - text.numKvSharedLayers;
    expect(model.cacheLayers).toEqual(Array.from({ length: firstShared }, (_, index) => index));
    expect(model.embed.inputNames).toEqual(['input_ids']);
    expect(model.embed.outputNames).toEqual(['inputs_embeds', 'per_layer_inputs']);
    const past = model.cacheLayers.flatMap((layer) => [`past_key_values.${layer}.key`, `past_key_values.${layer}.value`]);
    const present = model.cacheLayers.flatMap((layer) => [`present.${layer}.key`, `present.${layer}.value`]);
    expect(model.decoder.inputNames).toEqual(['inputs_embeds', 'per_layer_inputs', 'attention_mask', 'position_ids', 'num_logits_to_keep', ...past]);
    expect([...model.decoder.outputNames].sort()).toEqual(['logits', ...present].sort());
    const metadata = model.decoder.inputMetadata.find((entry) => entry.name === 'past_key_values.0.key');
    expect(metadata).toMatchObject({ isTensor: true, type: 'float32', shape: ['batch_size', text.numKeyValueHeads, 'past_sequence_length', text.headDim] });
    const keep = model.decoder.inputMetadata.find((entry) => entry.name === 'num_logits_to_keep');
    expect(keep).toMatchObject({ type: 'int64', shape: [] });
  }

  async embedTokens(): Promise<void> {
    const { name, model, weights, prompt } = this.loaded;
    const { text } = model.config;
    const reference = referenceEmbed(model.config, (tensorName) => weights.get(tensorName), prompt);
    const { inputs_embeds: embeds, per_layer_inputs: perLayer } = await model.embed.run({ input_ids: int64(prompt, [1, prompt.length]) });
    expect(embeds!.dims).toEqual([1, prompt.length, text.hiddenSize]);
    expect(perLayer!.dims).toEqual([1, prompt.length, text.numHiddenLayers, text.hiddenSizePerLayerInput]);
    this.errors.expectClose(`${name}: inputs_embeds`, embeds!.data as Float32Array, reference.inputsEmbeds);
    this.errors.expectClose(`${name}: per_layer_inputs`, perLayer!.data as Float32Array, reference.perLayerInputs);
  }

  async prefillAllPositions(): Promise<void> {
    const { name, model, prompt, referenceLogits } = this.loaded;
    const outputs = await this.prefill(prompt, 0);
    expect(outputs.logits!.dims).toEqual([1, prompt.length, model.config.text.vocabSize]);
    this.fullLogits = outputs.logits!.data as Float32Array;
    this.errors.expectClose(`${name}: prefill logits (all positions)`, this.fullLogits, referenceLogits);
    expect(outputs[`present.${model.cacheLayers[0]}.key`]!.dims).toEqual([1, model.config.text.numKeyValueHeads, prompt.length, model.config.text.headDim]);
  }

  async lastPositions(): Promise<void> {
    const { name, model, prompt, referenceLogits } = this.loaded;
    const vocab = model.config.text.vocabSize;
    const one = await this.prefill(prompt, 1);
    expect(one.logits!.dims).toEqual([1, 1, vocab]);
    this.errors.expectClose(`${name}: last logits (num_logits_to_keep 1)`, one.logits!.data as Float32Array, rows(referenceLogits, vocab, prompt.length - 1, prompt.length));
    const three = await this.prefill(prompt, 3);
    expect(three.logits!.dims).toEqual([1, 3, vocab]);
    this.errors.expectClose(`${name}: last logits (num_logits_to_keep 3)`, three.logits!.data as Float32Array, rows(referenceLogits, vocab, prompt.length - 3, prompt.length));
    // More than the sequence keeps every position (no negative slice start).
    const more = await this.prefill(prompt, prompt.length + 5);
    expect(more.logits!.dims).toEqual([1, prompt.length, vocab]);
  }

  /**
   * Prefill of 3 tokens, then one cached step per token: each equals the full recompute; the
   * error against the reference is recorded, and asserted when `referenceTolerance` is given.
   */
  async cachedDecoding(referenceTolerance?: number): Promise<void> {
    const { name, model, prompt, referenceLogits } = this.loaded;
    const vocab = model.config.text.vocabSize;
    const prefillLength = 3;
    let outputs = await this.prefill(prompt.slice(0, prefillLength), 1);
    this.errors.expectClose(`${name}: cached decode vs ONNX full recompute`, outputs.logits!.data as Float32Array, rows(this.full, vocab, prefillLength - 1, prefillLength));
    for (let position = prefillLength; position < prompt.length; position++) {
      outputs = await runTextGraphs(model, [prompt[position]!], position, 1, presentsAsPast(outputs));
      expect(outputs.logits!.dims).toEqual([1, 1, vocab]);
      const step = outputs.logits!.data as Float32Array;
      this.errors.expectClose(`${name}: cached decode vs ONNX full recompute`, step, rows(this.full, vocab, position, position + 1));
      const label = `${name}: cached decode vs reference`;
      const expected = rows(referenceLogits, vocab, position, position + 1);
      if (referenceTolerance === undefined) this.errors.measure(label, step, expected);
      else this.errors.expectClose(label, step, expected, referenceTolerance);
    }
    expect(outputs[`present.${model.cacheLayers.at(-1)}.value`]!.dims[2]).toBe(prompt.length);
  }

  async chunkedPrefill(): Promise<void> {
    const { name, model, prompt } = this.loaded;
    const vocab = model.config.text.vocabSize;
    const split = model.config.text.slidingWindow + 2;
    const first = await this.prefill(prompt.slice(0, split), 0);
    const second = await runTextGraphs(model, prompt.slice(split), split, 0, presentsAsPast(first));
    expect(second.logits!.dims).toEqual([1, prompt.length - split, vocab]);
    this.errors.expectClose(`${name}: chunked prefill vs ONNX full recompute`, second.logits!.data as Float32Array, rows(this.full, vocab, split, prompt.length));
  }

  /**
   * Batch 2, row 1 left-padded, in prefill and one decode step: each row is asserted against
   * the same graph's batch-1 run (`paddedTolerance` for the padded row's prefill) and measured
   * against the reference.
   */
  async leftPaddedBatch(paddedTolerance = RELATIVE_TOLERANCE): Promise<void> {
    const { name, model, weights, prompt, referenceLogits } = this.loaded;
    const vocab = model.config.text.vocabSize;
    const padding = 3;
    const length = prompt.length;
    const short = prompt.slice(0, length - padding);
    const ids = [...prompt, ...Array.from({ length: padding }, () => 0), ...short];
    const mask = [...prompt.map(() => 1), ...Array.from({ length: padding }, () => 0), ...short.map(() => 1)];
    // transformers.js position ids: cumsum(mask) − 1, with 1 at padded positions.
    const positions = [...prompt.map((_, index) => index), ...Array.from({ length: padding }, () => 1), ...short.map((_, index) => index)];
    const embedded = await model.embed.run({ input_ids: int64(ids, [2, length]) });
    const outputs = await model.decoder.run({
      inputs_embeds: embedded.inputs_embeds!,
      per_layer_inputs: embedded.per_layer_inputs!,
      attention_mask: int64(mask, [2, length]),
      position_ids: int64(positions, [2, length]),
      num_logits_to_keep: int64([0], []),
      ...emptyPast(model, 2),
    });
    const logits = outputs.logits!.data as Float32Array;
    expect(logits.every((value) => Number.isFinite(value))).toBe(true);
    this.errors.expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(logits, vocab, 0, length), this.full);
    this.errors.measure(`${name}: batch-2 vs reference`, rows(logits, vocab, 0, length), referenceLogits);
    // Row 1's real tokens are positions padding…length−1; the reference of `short` alone is a prefix of the prompt's.
    this.errors.expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(logits, vocab, length + padding, 2 * length), rows(this.full, vocab, 0, short.length), paddedTolerance);
    this.errors.measure(`${name}: batch-2 vs reference`, rows(logits, vocab, length + padding, 2 * length), rows(referenceLogits, vocab, 0, short.length));

    // One decode step for both rows: row 0 continues with prompt[0] at position `length`, row 1 with
    // prompt[short.length] at position short.length (its own next token), compared with the full run.
    const next = await model.embed.run({ input_ids: int64([prompt[0]!, prompt[short.length]!], [2, 1]) });
    const step = await model.decoder.run({
      inputs_embeds: next.inputs_embeds!,
      per_layer_inputs: next.per_layer_inputs!,
      attention_mask: int64([...mask.slice(0, length), 1, ...mask.slice(length), 1], [2, length + 1]),
      position_ids: int64([length, short.length], [2, 1]),
      num_logits_to_keep: int64([1], []),
      ...presentsAsPast(outputs),
    });
    const stepLogits = step.logits!.data as Float32Array;
    this.errors.expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(stepLogits, vocab, 1, 2), rows(this.full, vocab, short.length, short.length + 1));
    this.errors.measure(`${name}: batch-2 vs reference`, rows(stepLogits, vocab, 1, 2), rows(referenceLogits, vocab, short.length, short.length + 1));
    const extended = [...prompt, prompt[0]!];
    const extendedOnnx = (await this.prefill(extended, 1)).logits!.data as Float32Array;
    this.errors.expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(stepLogits, vocab, 0, 1), extendedOnnx);
    const extendedLogits = referenceLogitsOf(model.config, weights, extended);
    this.errors.measure(`${name}: batch-2 vs reference`, rows(stepLogits, vocab, 0, 1), rows(extendedLogits, vocab, length, length + 1));
  }
}

type TextConfigEdit = (text: Record<string, unknown>) => void;

/**
 * Config corners the named tiny shapes do not reach, applied to tiny-window-4: no KV sharing,
 * a single layer type, no final softcap, no correct_output_scale, two or six AltUp streams,
 * active stream ≠ 0, sparsity on every layer.
 */
export const TEXT_CONFIG_VARIANTS: [string, TextConfigEdit][] = [
  [
    'no KV sharing, all sliding, no softcap, no correct_output_scale',
    (text) => {
      text.num_kv_shared_layers = 0;
      text.layer_types = Array.from({ length: 9 }, () => 'sliding_attention');
      text.final_logit_softcapping = null;
      text.altup_correct_scale = false;
    },
  ],
  [
    'all full attention with sharing, sparsity on every layer, 2 AltUp streams',
    (text) => {
      text.layer_types = Array.from({ length: 9 }, () => 'full_attention');
      text.activation_sparsity_pattern = Array.from({ length: 9 }, (_, index) => [0.95, 0.8, 0.5][index % 3]);
      text.altup_num_inputs = 2;
    },
  ],
  [
    '6 AltUp streams with active stream 2',
    (text) => {
      text.altup_num_inputs = 6;
      text.altup_active_idx = 2;
    },
  ],
];

/** A tiny shape's config, edited, with its random weights (seed 11). */
export function tinyVariant(shape: TinyShapeName, edit?: TextConfigEdit): { config: Gemma3nConfig; weights: InMemoryTensorSource } {
  const raw = tinyShapeConfig(shape);
  edit?.(raw.text_config as Record<string, unknown>);
  return { config: parseGemma3nConfig(raw), weights: randomCheckpointWeights(raw, { seed: 11 }) };
}

/** 2·window + 2 text ids below the PLE vocabulary, with a vision hard token at `visionTokenAt` if given. */
export function variantPrompt(config: Gemma3nConfig, visionTokenAt?: number): number[] {
  const { text } = config;
  return Array.from({ length: 2 * text.slidingWindow + 2 }, (_, index) =>
    index === visionTokenAt ? config.vision!.vocabOffset + 1 : (index * 53 + 7) % text.vocabSizePerLayerInput,
  );
}

/**
 * Writes the graphs of `weights` with `options`, checks the prefill of `prompt` against the
 * reference logits of `reference` (the same checkpoint, in memory) and cached decoding against
 * the prefill; returns the prefill logits. `inspect` sees the folder before the sessions open.
 */
export async function checkPrefillAndCachedDecoding(params: {
  config: Gemma3nConfig;
  weights: TensorSource;
  reference: InMemoryTensorSource;
  options: WriteTextGraphsOptions;
  prompt: number[];
  inspect?: (directory: string) => Promise<void>;
}): Promise<Float32Array> {
  const { config, prompt } = params;
  const directory = await mkdtemp(join(tmpdir(), `${params.options.graph === 'optimized' ? 'optimized' : 'text'}-variant-`));
  try {
    await writeTextGraphs(config, params.weights, directory, params.options);
    await params.inspect?.(directory);
    const model = await openTextGraphSessions(directory, config);
    expect(model.decoder.inputNames.filter((name) => name.startsWith('past_key_values.')).length).toBe(2 * model.cacheLayers.length);
    const vocab = config.text.vocabSize;
    const fullLogits = (await runTextGraphs(model, prompt, 0, 0, emptyPast(model, 1))).logits!.data as Float32Array;
    expect(relativeError(fullLogits, referenceLogitsOf(config, params.reference, prompt))).toBeLessThanOrEqual(RELATIVE_TOLERANCE);

    let outputs = await runTextGraphs(model, prompt.slice(0, 2), 0, 0, emptyPast(model, 1));
    for (let position = 2; position < prompt.length; position++) {
      outputs = await runTextGraphs(model, [prompt[position]!], position, 0, presentsAsPast(outputs));
      expect(relativeError(outputs.logits!.data as Float32Array, rows(fullLogits, vocab, position, position + 1))).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
    }
    await releaseTextGraphSessions(model);
    return fullLogits;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
