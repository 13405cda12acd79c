import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvSharingPlan, parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { referenceDecoder, referenceEmbed } from '@gemma3n/reference';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import { writeTextGraphs } from './write-text-graphs';

/**
 * Config corners the named tiny shapes do not reach: no KV sharing, a single layer type,
 * no final softcap, no correct_output_scale, two or six AltUp streams, active stream ≠ 0,
 * sparsity on every layer. Each is prefilled past the window and checked against the reference,
 * then decoded with the cache.
 */
type Edit = (text: Record<string, unknown>) => void;

const VARIANTS: [string, Edit][] = [
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

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let difference = 0;
  let magnitude = 0;
  for (let index = 0; index < expected.length; index++) {
    const delta = Math.abs(actual[index]! - expected[index]!);
    if (!(delta <= difference)) difference = delta;
    magnitude = Math.max(magnitude, Math.abs(expected[index]!));
  }
  return difference / magnitude;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);

describe.each(VARIANTS)('text graphs, %s', (_, edit) => {
  it('prefill equals the reference and cached decoding equals the prefill', async () => {
    const raw = tinyShapeConfig('tiny-window-4');
    edit(raw.text_config as Record<string, unknown>);
    const config: Gemma3nConfig = parseGemma3nConfig(raw);
    const weights = randomCheckpointWeights(raw, { seed: 11 });
    const directory = await mkdtemp(join(tmpdir(), 'text-variant-'));
    try {
      await writeTextGraphs(config, weights, directory);
      const embed = await ort.InferenceSession.create(join(directory, 'embed_tokens.onnx'));
      const decoder = await ort.InferenceSession.create(join(directory, 'decoder_model_merged.onnx'));
      const { text } = config;
      const cacheLayers = kvSharingPlan(text).cacheLayers;
      expect(decoder.inputNames.filter((name) => name.startsWith('past_key_values.')).length).toBe(2 * cacheLayers.length);
      const prompt = Array.from({ length: 2 * text.slidingWindow + 2 }, (_, index) => (index * 53 + 7) % text.vocabSizePerLayerInput);
      const vocab = text.vocabSize;

      const run = async (ids: number[], start: number, past: Record<string, ort.Tensor>) => {
        const embedded = await embed.run({ input_ids: int64(ids, [1, ids.length]) });
        return decoder.run({
          inputs_embeds: embedded.inputs_embeds!,
          per_layer_inputs: embedded.per_layer_inputs!,
          attention_mask: int64(Array.from({ length: start + ids.length }, () => 1), [1, start + ids.length]),
          position_ids: int64(ids.map((__, index) => start + index), [1, ids.length]),
          num_logits_to_keep: int64([0], []),
          ...past,
        });
      };
      const emptyPast: Record<string, ort.Tensor> = {};
      for (const layer of cacheLayers) {
        for (const kind of ['key', 'value']) {
          emptyPast[`past_key_values.${layer}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, text.numKeyValueHeads, 0, text.headDim]);
        }
      }
      const full = await run(prompt, 0, emptyPast);
      const fullLogits = full.logits!.data as Float32Array;
      const reference = referenceEmbed(config, (name) => weights.get(name), prompt);
      const referenceLogits = referenceDecoder(config, (name) => weights.get(name), reference.inputsEmbeds, reference.perLayerInputs, prompt.length);
      expect(relativeError(fullLogits, referenceLogits)).toBeLessThanOrEqual(1e-4);

      let outputs = await run(prompt.slice(0, 2), 0, emptyPast);
      for (let position = 2; position < prompt.length; position++) {
        const past: Record<string, ort.Tensor> = {};
        for (const [name, value] of Object.entries(outputs)) if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = value as ort.Tensor;
        outputs = await run([prompt[position]!], position, past);
        const step = outputs.logits!.data as Float32Array;
        expect(relativeError(step, fullLogits.subarray(position * vocab, (position + 1) * vocab))).toBeLessThanOrEqual(1e-4);
      }
      await embed.release();
      await decoder.release();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
