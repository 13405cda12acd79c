/**
 * Compatibility in the transformers.js → us direction of the contract: transformers.js 4.3
 * (offline) loads the folder our converter writes, and its greedy tokens equal ours.
 *
 * The tiny folder holds only the text sessions, so it is loaded with Gemma3nForCausalLM:
 * transformers.js then reads `architectures[0]` (Gemma3nForConditionalGeneration) and runs the
 * same embed_tokens + decoder_model_merged sessions in text-only mode, without asking for
 * vision_encoder / audio_encoder files (Gemma3nForConditionalGeneration itself requires all four).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { env, Gemma3nForCausalLM, Tensor } from '@huggingface/transformers';
import { createNodeBackend } from '@gemma3n/backend-node';
import type { Gemma3n as BrowserGemma3n } from '../src/index';
import { Gemma3n } from '../src/node';
import { tinyModelFolder } from './tiny-model-folder';

env.allowRemoteModels = false; // pipeline probes ignore local_files_only otherwise

const newTokens = 32;
const prompts = [
  [{ role: 'user' as const, content: 'Hi' }],
  [{ role: 'user' as const, content: 'Why is the sky blue?' }],
  [
    { role: 'system' as const, content: 'You are a careful assistant who answers in full sentences.' },
    { role: 'user' as const, content: 'Explain, step by step, how a bicycle stays upright when it moves forward quickly.' },
  ],
];

let folder: string;
let ours: BrowserGemma3n;
let theirs: Awaited<ReturnType<typeof Gemma3nForCausalLM.from_pretrained>>;

beforeAll(async () => {
  folder = await tinyModelFolder('tiny-real-vocab', 5);
  ours = await Gemma3n.load(folder, { backend: createNodeBackend({ intraOpNumThreads: 1 }) });
  theirs = await Gemma3nForCausalLM.from_pretrained(folder, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
});

describe('transformers.js on our tiny-real-vocab folder', () => {
  it('has a prompt longer than the sliding window', () => {
    const longest = ours.tokenizer.encode(ours.tokenizer.applyChatTemplate(prompts[2]!, { addGenerationPrompt: true }), { addSpecialTokens: false });
    expect(longest.length).toBeGreaterThan(ours.config.text.slidingWindow * 2);
  });

  it.each(prompts.map((messages, index) => [index, messages] as const))('gives our greedy tokens for prompt %i', async (_index, messages) => {
    const text = ours.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    const promptIds = ours.tokenizer.encode(text, { addSpecialTokens: false });
    // No stop tokens on either side, so both run the full 32 steps.
    const result = await ours.generate({ promptIds, temperature: 0, maxNewTokens: newTokens, stopTokenIds: [] });
    const output = (await theirs.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, promptIds.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]),
      max_new_tokens: newTokens,
      do_sample: false,
      eos_token_id: [],
    })) as Tensor;
    const theirTokens = Array.from(output.data as BigInt64Array, Number).slice(promptIds.length);
    expect(theirTokens).toHaveLength(newTokens);
    expect(result.tokenIds).toEqual(theirTokens);
    expect(new Set(result.tokenIds).size).toBeGreaterThan(4);
  });
});
