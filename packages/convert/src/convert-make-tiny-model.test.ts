import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig, UnsupportedError } from '@gemma3n/core';
import { referenceForward } from '@gemma3n/reference';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from './checkpoint/random-checkpoint-weights';
import { TINY_TEXT_SHAPES, type TinyShapeName } from './checkpoint/tiny-text-shapes';
import { makeTinyModel } from './convert-make-tiny-model';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-make-tiny-test-'));
  env.allowRemoteModels = false;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Greedy continuation with the reference forward pass over the same random weights. */
function referenceGreedy(shape: TinyShapeName, seed: number, promptIds: number[], steps: number): number[] {
  const raw = TINY_TEXT_SHAPES[shape];
  const config = parseGemma3nConfig(raw);
  const weights = randomCheckpointWeights(raw, { seed });
  const ids = [...promptIds];
  const vocabSize = config.text.vocabSize;
  for (let step = 0; step < steps; step++) {
    const logits = referenceForward(config, (name) => weights.get(name), ids);
    const row = logits.subarray((ids.length - 1) * vocabSize, ids.length * vocabSize);
    let best = 0;
    for (let id = 1; id < vocabSize; id++) if ((row[id] as number) > (row[best] as number)) best = id;
    ids.push(best);
  }
  return ids.slice(promptIds.length);
}

async function transformersGreedy(folder: string, prompt: string, steps: number) {
  const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  // Text only: a ForCausalLM class on a ForConditionalGeneration config loads just embed_tokens and the decoder.
  const model = await AutoModelForCausalLM.from_pretrained(folder, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
  try {
    const inputs = tokenizer(prompt, { add_special_tokens: false });
    const output = (await model.generate({ ...inputs, max_new_tokens: steps, do_sample: false })) as { tolist(): bigint[][] };
    const all = output.tolist()[0]?.map(Number) ?? [];
    const promptIds = (inputs.input_ids.tolist() as bigint[][])[0]?.map(Number) ?? [];
    return { promptIds, generated: all.slice(promptIds.length) };
  } finally {
    await model.dispose();
  }
}

describe('makeTinyModel', () => {
  it('makes a folder that transformers.js runs, generating what the reference forward pass predicts', async () => {
    const folder = join(root, 'gqa');
    await makeTinyModel(folder, { shape: 'tiny-gqa-4to1', seed: 11 });
    const prompt = '<bos><start_of_turn>user\n the cat and the dog<end_of_turn>\n<start_of_turn>model\n';
    const { promptIds, generated } = await transformersGreedy(folder, prompt, 8);
    expect(promptIds.slice(0, 3)).toEqual([2, 105, ...promptIds.slice(2, 3)]);
    // The prompt (about 20 tokens) is longer than the sliding window of 6, and generation runs
    // through the KV cache, so this checks window masking and cache sharing end to end.
    expect(promptIds.length).toBeGreaterThan(12);
    expect(generated).toEqual(referenceGreedy('tiny-gqa-4to1', 11, promptIds, 8));
    expect(await readdir(root)).toEqual(['gqa']);
  });

  it('builds tiny-real-vocab with the real Gemma 3n tokenizer', async () => {
    const folder = join(root, 'real-vocab');
    await makeTinyModel(folder, { shape: 'tiny-real-vocab', seed: 2 });
    const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    const ids = tokenizer.encode('<start_of_turn>user\nHello<end_of_turn><image_soft_token><audio_soft_token><start_of_audio>', {
      add_special_tokens: false,
    });
    expect(ids[0]).toBe(105);
    expect(ids.slice(-4)).toEqual([106, 262145, 262273, 256000]);
    const { generated } = await transformersGreedy(folder, '<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n', 4);
    expect(generated).toHaveLength(4);
  });

  it('rejects an unknown shape', async () => {
    await expect(makeTinyModel(join(root, 'nope'), { shape: 'huge' as TinyShapeName, seed: 1 })).rejects.toThrow(UnsupportedError);
  });
});
