import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { referenceDecoder, referenceEmbed } from '@gemma3n/reference';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { TINY_SHAPE_NAMES, TINY_TEXT_SHAPES, type TinyShapeName } from '../checkpoint/tiny-text-shapes';
import { onnx } from '../onnx/onnx-proto';
import type { InMemoryTensorSource } from '../tensor-source';
import { writeTextGraphs } from './write-text-graphs';
import { kvSharingPlan } from '@gemma3n/core';

/** Acceptance bar: max|a − b| ≤ 1e-4 · max|b| over a whole logits (or embeddings) tensor. */
const RELATIVE_TOLERANCE = 1e-4;

/** Worst relative error per check, printed at the end so the report can quote it. */
const worst = new Map<string, number>();

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
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

/** Records the relative error for the summary without asserting it. */
function measure(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const error = relativeError(actual, expected);
  worst.set(label, Math.max(worst.get(label) ?? 0, error));
  return error;
}

function expectClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const error = measure(label, actual, expected);
  expect(error, `${label}: relative error ${error}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);

interface LoadedModel {
  name: TinyShapeName;
  config: Gemma3nConfig;
  weights: InMemoryTensorSource;
  embed: ort.InferenceSession;
  decoder: ort.InferenceSession;
  cacheLayers: number[];
  files: string[];
}

/** A prompt longer than the window that hits text ids, ids ≥ the PLE vocabulary, and both hard-token ranges. */
function promptFor(config: Gemma3nConfig, length: number): number[] {
  const { vocabSizePerLayerInput } = config.text;
  const special = [config.vision!.vocabOffset + 3, config.audio!.vocabOffset + 5, config.vision!.vocabOffset, config.audio!.vocabOffset + config.audio!.vocabSize - 1];
  const ids: number[] = [2];
  let state = 12345;
  while (ids.length < length) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    ids.push(ids.length % 5 === 3 && special.length > 0 ? special.shift()! : state % vocabSizePerLayerInput);
  }
  return ids;
}

function emptyPast(model: LoadedModel, batch: number): Record<string, ort.Tensor> {
  const { numKeyValueHeads, headDim } = model.config.text;
  const feeds: Record<string, ort.Tensor> = {};
  for (const layer of model.cacheLayers) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [batch, numKeyValueHeads, 0, headDim]);
    }
  }
  return feeds;
}

function presentsAsPast(outputs: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, value] of Object.entries(outputs)) {
    if (name.startsWith('present.')) feeds[name.replace('present.', 'past_key_values.')] = value as ort.Tensor;
  }
  return feeds;
}

/** Rows [start, end) of a [rows, width] array. */
function rows(data: Float32Array, width: number, start: number, end: number): Float32Array {
  return data.subarray(start * width, end * width);
}

describe.each(TINY_SHAPE_NAMES)('text graphs on %s', (name) => {
  let directory: string;
  let model: LoadedModel;
  let prompt: number[];
  let referenceLogits: Float32Array;
  /** ONNX logits of the whole prompt in one prefill: the "full recompute" cached decoding must equal. */
  let fullLogits: Float32Array;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), `text-graphs-${name}-`));
    const raw = TINY_TEXT_SHAPES[name];
    const config = parseGemma3nConfig(raw);
    const weights = randomCheckpointWeights(raw, { seed: 7 });
    const progress: string[] = [];
    // A 64 KiB data-file limit makes the decoder's weights span several external data files.
    const { files } = await writeTextGraphs(config, weights, directory, {
      maxExternalDataFileBytes: 64 * 1024,
      onProgress: (event) => progress.push(`${event.stage}:${event.done}/${event.total}`),
    });
    expect(progress.at(-1)).toMatch(/^decoder_model_merged:(\d+)\/\1$/);
    expect(progress.find((entry) => entry.startsWith('embed_tokens') && /:(\d+)\/\1$/.test(entry))).toBeDefined();
    model = {
      name,
      config,
      weights,
      files,
      embed: await ort.InferenceSession.create(join(directory, 'embed_tokens.onnx')),
      decoder: await ort.InferenceSession.create(join(directory, 'decoder_model_merged.onnx')),
      cacheLayers: kvSharingPlan(config.text).cacheLayers,
    };
    prompt = promptFor(config, 2 * config.text.slidingWindow + 3);
    const reference = referenceEmbed(config, (tensorName) => weights.get(tensorName), prompt);
    referenceLogits = referenceDecoder(config, (tensorName) => weights.get(tensorName), reference.inputsEmbeds, reference.perLayerInputs, prompt.length);
  });

  afterAll(async () => {
    await model?.embed.release();
    await model?.decoder.release();
    await rm(directory, { recursive: true, force: true });
  });

  it('writes the contract files, external data named <file>_data, <file>_data_1, …', async () => {
    const listed = (await readdir(directory)).sort();
    expect([...model.files].sort()).toEqual(listed);
    expect(model.files[0]).toBe('embed_tokens.onnx');
    expect(model.files).toContain('decoder_model_merged.onnx');
    expect(model.files).toContain('decoder_model_merged.onnx_data');
    expect(model.files).toContain('decoder_model_merged.onnx_data_1');
    for (const file of listed) expect(file).toMatch(/^(embed_tokens|decoder_model_merged)\.onnx(_data(_\d+)?)?$/);
    // Streaming means the model protos hold no weight bytes: every initializer of 1 KiB or
    // more lives in external data (int64 shape constants are small and stay inline).
    for (const file of ['embed_tokens.onnx', 'decoder_model_merged.onnx']) {
      const proto = onnx.ModelProto.decode(await readFile(join(directory, file)));
      expect(Number(proto.irVersion)).toBe(10);
      expect(proto.opsetImport!.map((opset) => `${opset.domain}:${Number(opset.version)}`)).toEqual([':21']);
      expect(proto.graph!.node!.every((node) => !node.domain)).toBe(true);
      const inlineLarge = proto.graph!.initializer!.filter((tensor) => (tensor.rawData?.length ?? 0) >= 1024).map((tensor) => tensor.name);
      expect(inlineLarge).toEqual([]);
      if (file === 'decoder_model_merged.onnx') {
        // KV-sharing consumers compute only q and o_proj: their checkpoint k_proj/v_proj/k_norm are not used.
        const names = proto.graph!.initializer!.map((tensor) => tensor.name!);
        const { numHiddenLayers, numKvSharedLayers } = model.config.text;
        for (let layer = 0; layer < numHiddenLayers; layer++) {
          const hasOwnKeys = names.includes(`/model/layers.${layer}/attn/k_proj/weight`);
          expect(hasOwnKeys, `layer ${layer} k_proj`).toBe(layer < numHiddenLayers - numKvSharedLayers);
          expect(names.includes(`/model/layers.${layer}/attn/q_proj/weight`)).toBe(true);
        }
      }
    }
  });

  it('declares the contract inputs and outputs, KV only for non-shared layers', () => {
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
  });

  it('embed_tokens equals referenceEmbed, hard tokens and out-of-table PLE ids included', async () => {
    const { text } = model.config;
    const reference = referenceEmbed(model.config, (tensorName) => model.weights.get(tensorName), prompt);
    const { inputs_embeds: embeds, per_layer_inputs: perLayer } = await model.embed.run({ input_ids: int64(prompt, [1, prompt.length]) });
    expect(embeds!.dims).toEqual([1, prompt.length, text.hiddenSize]);
    expect(perLayer!.dims).toEqual([1, prompt.length, text.numHiddenLayers, text.hiddenSizePerLayerInput]);
    expectClose(`${name}: inputs_embeds`, embeds!.data as Float32Array, reference.inputsEmbeds);
    expectClose(`${name}: per_layer_inputs`, perLayer!.data as Float32Array, reference.perLayerInputs);
  });

  async function prefill(ids: number[], keep: number): Promise<ort.InferenceSession.OnnxValueMapType> {
    const { inputs_embeds: embeds, per_layer_inputs: perLayer } = await model.embed.run({ input_ids: int64(ids, [1, ids.length]) });
    return model.decoder.run({
      inputs_embeds: embeds!,
      per_layer_inputs: perLayer!,
      attention_mask: int64(ids.map(() => 1), [1, ids.length]),
      position_ids: int64(ids.map((_, index) => index), [1, ids.length]),
      num_logits_to_keep: int64([keep], []),
      ...emptyPast(model, 1),
    });
  }

  it('decoder logits at every position equal referenceDecoder for a prompt longer than the window', async () => {
    const outputs = await prefill(prompt, 0);
    expect(outputs.logits!.dims).toEqual([1, prompt.length, model.config.text.vocabSize]);
    fullLogits = outputs.logits!.data as Float32Array;
    expectClose(`${name}: prefill logits (all positions)`, outputs.logits!.data as Float32Array, referenceLogits);
    expect(outputs[`present.${model.cacheLayers[0]}.key`]!.dims).toEqual([1, model.config.text.numKeyValueHeads, prompt.length, model.config.text.headDim]);
  });

  it('num_logits_to_keep = 1 computes only the last position', async () => {
    const vocab = model.config.text.vocabSize;
    const outputs = await prefill(prompt, 1);
    expect(outputs.logits!.dims).toEqual([1, 1, vocab]);
    expectClose(`${name}: last logits (num_logits_to_keep 1)`, outputs.logits!.data as Float32Array, rows(referenceLogits, vocab, prompt.length - 1, prompt.length));
    const three = await prefill(prompt, 3);
    expect(three.logits!.dims).toEqual([1, 3, vocab]);
    expectClose(`${name}: last logits (num_logits_to_keep 3)`, three.logits!.data as Float32Array, rows(referenceLogits, vocab, prompt.length - 3, prompt.length));
    // More than the sequence keeps every position (no negative slice start).
    const more = await prefill(prompt, prompt.length + 5);
    expect(more.logits!.dims).toEqual([1, prompt.length, vocab]);
  });

  it('cached step-by-step decoding equals the full recompute at every step', async () => {
    const vocab = model.config.text.vocabSize;
    const prefillLength = 3;
    let outputs = await prefill(prompt.slice(0, prefillLength), 1);
    expectClose(`${name}: cached decode vs ONNX full recompute`, outputs.logits!.data as Float32Array, rows(fullLogits, vocab, prefillLength - 1, prefillLength));
    for (let position = prefillLength; position < prompt.length; position++) {
      const { inputs_embeds: embeds, per_layer_inputs: perLayer } = await model.embed.run({ input_ids: int64([prompt[position]!], [1, 1]) });
      outputs = await model.decoder.run({
        inputs_embeds: embeds!,
        per_layer_inputs: perLayer!,
        attention_mask: int64(Array.from({ length: position + 1 }, () => 1), [1, position + 1]),
        position_ids: int64([position], [1, 1]),
        num_logits_to_keep: int64([1], []),
        ...presentsAsPast(outputs),
      });
      expect(outputs.logits!.dims).toEqual([1, 1, vocab]);
      const stepLogits = outputs.logits!.data as Float32Array;
      expectClose(`${name}: cached decode vs ONNX full recompute`, stepLogits, rows(fullLogits, vocab, position, position + 1));
      measure(`${name}: cached decode vs reference`, stepLogits, rows(referenceLogits, vocab, position, position + 1));
    }
    expect(outputs[`present.${model.cacheLayers.at(-1)}.value`]!.dims[2]).toBe(prompt.length);
  });

  it('chunked prefill (a second chunk on top of the cache) equals the one-piece prefill', async () => {
    const vocab = model.config.text.vocabSize;
    const split = model.config.text.slidingWindow + 2;
    const first = await prefill(prompt.slice(0, split), 0);
    const rest = prompt.slice(split);
    const { inputs_embeds: embeds, per_layer_inputs: perLayer } = await model.embed.run({ input_ids: int64(rest, [1, rest.length]) });
    const second = await model.decoder.run({
      inputs_embeds: embeds!,
      per_layer_inputs: perLayer!,
      attention_mask: int64(prompt.map(() => 1), [1, prompt.length]),
      position_ids: int64(rest.map((_, index) => split + index), [1, rest.length]),
      num_logits_to_keep: int64([0], []),
      ...presentsAsPast(first),
    });
    expect(second.logits!.dims).toEqual([1, rest.length, vocab]);
    expectClose(`${name}: chunked prefill vs ONNX full recompute`, second.logits!.data as Float32Array, rows(fullLogits, vocab, split, prompt.length));
  });

  it('batch 2 with left padding gives each row the logits of its unpadded sequence, in prefill and decode', async () => {
    const vocab = model.config.text.vocabSize;
    const padding = 3;
    const short = prompt.slice(0, prompt.length - padding);
    const paddedIds = [...prompt, ...Array.from({ length: padding }, () => 0), ...short];
    const mask = [...prompt.map(() => 1), ...Array.from({ length: padding }, () => 0), ...short.map(() => 1)];
    // transformers.js position ids: cumsum(mask) − 1, with 1 at padded positions.
    const positions = [...prompt.map((_, index) => index), ...Array.from({ length: padding }, () => 1), ...short.map((_, index) => index)];
    const length = prompt.length;
    const { inputs_embeds: embeds, per_layer_inputs: perLayer } = await model.embed.run({ input_ids: int64(paddedIds, [2, length]) });
    const outputs = await model.decoder.run({
      inputs_embeds: embeds!,
      per_layer_inputs: perLayer!,
      attention_mask: int64(mask, [2, length]),
      position_ids: int64(positions, [2, length]),
      num_logits_to_keep: int64([0], []),
      ...emptyPast(model, 2),
    });
    const logits = outputs.logits!.data as Float32Array;
    expect(Number.isFinite(logits.reduce((sum, value) => sum + value, 0))).toBe(true);
    expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(logits, vocab, 0, length), fullLogits);
    measure(`${name}: batch-2 vs reference`, rows(logits, vocab, 0, length), referenceLogits);
    // Row 1's real tokens are positions padding…length−1; the reference of `short` alone is a prefix of the prompt's.
    expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(logits, vocab, length + padding, 2 * length), rows(fullLogits, vocab, 0, short.length));
    measure(`${name}: batch-2 vs reference`, rows(logits, vocab, length + padding, 2 * length), rows(referenceLogits, vocab, 0, short.length));

    // One decode step for both rows: row 0 continues with prompt[0] at position `length`, row 1 with
    // prompt[short.length] at position short.length (its own next token), compared with the full run.
    const nextIds = [prompt[0]!, prompt[short.length]!];
    const next = await model.embed.run({ input_ids: int64(nextIds, [2, 1]) });
    const step = await model.decoder.run({
      inputs_embeds: next.inputs_embeds!,
      per_layer_inputs: next.per_layer_inputs!,
      attention_mask: int64([...mask.slice(0, length), 1, ...mask.slice(length), 1], [2, length + 1]),
      position_ids: int64([length, short.length], [2, 1]),
      num_logits_to_keep: int64([1], []),
      ...presentsAsPast(outputs),
    });
    const stepLogits = step.logits!.data as Float32Array;
    expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(stepLogits, vocab, 1, 2), rows(fullLogits, vocab, short.length, short.length + 1));
    measure(`${name}: batch-2 vs reference`, rows(stepLogits, vocab, 1, 2), rows(referenceLogits, vocab, short.length, short.length + 1));
    const extended = [...prompt, prompt[0]!];
    const extendedFull = (await prefill(extended, 1)).logits!.data as Float32Array;
    expectClose(`${name}: batch-2 vs batch-1 ONNX`, rows(stepLogits, vocab, 0, 1), extendedFull);
    const extendedReference = referenceEmbed(model.config, (tensorName) => model.weights.get(tensorName), extended);
    const extendedLogits = referenceDecoder(model.config, (tensorName) => model.weights.get(tensorName), extendedReference.inputsEmbeds, extendedReference.perLayerInputs, extended.length);
    measure(`${name}: batch-2 vs reference`, rows(stepLogits, vocab, 0, 1), rows(extendedLogits, vocab, length, length + 1));
  });
});

afterAll(() => {
  const lines = [...worst.entries()].map(([kind, error]) => `  ${kind}: worst relative error ${error.toExponential(2)}`);
  console.log(`text graphs vs reference (tolerance ${RELATIVE_TOLERANCE}):\n${lines.join('\n')}`);
});
