import { join } from 'node:path';
import { kvSharingPlan, type Gemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';

/**
 * The two text sessions of a written folder and the feeds of a prefill or a cached step
 * (batch 1), through onnxruntime-node: used by the text-graph tests
 * (text-graph-test-harness.ts) and the optimized-graphs bench. No test framework here.
 */

export const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);

export interface TextGraphSessions {
  config: Gemma3nConfig;
  embed: ort.InferenceSession;
  decoder: ort.InferenceSession;
  /** The layers whose K/V the decoder takes and returns. */
  cacheLayers: number[];
}

export async function openTextGraphSessions(
  directory: string,
  config: Gemma3nConfig,
  sessionOptions: ort.InferenceSession.SessionOptions = {},
): Promise<TextGraphSessions> {
  return {
    config,
    embed: await ort.InferenceSession.create(join(directory, 'embed_tokens.onnx'), sessionOptions),
    decoder: await ort.InferenceSession.create(join(directory, 'decoder_model_merged.onnx'), sessionOptions),
    cacheLayers: kvSharingPlan(config.text).cacheLayers,
  };
}

export async function releaseTextGraphSessions(model: TextGraphSessions | undefined): Promise<void> {
  await model?.embed.release();
  await model?.decoder.release();
}

/** Empty past K/V [batch, Hkv, 0, hd] for every cache layer. */
export function emptyPast(model: TextGraphSessions, batch: number): Record<string, ort.Tensor> {
  const { numKeyValueHeads, headDim } = model.config.text;
  const feeds: Record<string, ort.Tensor> = {};
  for (const layer of model.cacheLayers) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [batch, numKeyValueHeads, 0, headDim]);
  }
  return feeds;
}

/** A run's `present.*` outputs as the next run's `past_key_values.*` feeds. */
export function presentsAsPast(outputs: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, value] of Object.entries(outputs)) if (name.startsWith('present.')) feeds[name.replace('present.', 'past_key_values.')] = value as ort.Tensor;
  return feeds;
}

/**
 * Embeds `ids` (batch 1) at positions start… and runs the decoder on top of `past`, keeping
 * the last `keep` positions' logits (0: all). `embedTimes` gets embed_tokens' wall time in ms.
 */
export async function runTextGraphs(
  model: TextGraphSessions,
  ids: number[],
  start: number,
  keep: number,
  past: Record<string, ort.Tensor>,
  embedTimes?: number[],
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const started = performance.now();
  const embedded = await model.embed.run({ input_ids: int64(ids, [1, ids.length]) });
  embedTimes?.push(performance.now() - started);
  return model.decoder.run({
    inputs_embeds: embedded.inputs_embeds!,
    per_layer_inputs: embedded.per_layer_inputs!,
    attention_mask: int64(Array.from({ length: start + ids.length }, () => 1), [1, start + ids.length]),
    position_ids: int64(ids.map((_, index) => start + index), [1, ids.length]),
    num_logits_to_keep: int64([keep], []),
    ...past,
  });
}
