/**
 * Compatibility with transformers.js 4.3 (offline) for a text + image + audio prompt: it loads
 * the four-file tiny-multimodal folder our converter writes with Gemma3nForConditionalGeneration
 * and its own AutoProcessor, and its greedy tokens equal ours.
 *
 * Inputs are chosen where the two preprocessors agree by construction: the image is already at
 * the encoder's 96×96 (so neither side resizes: transformers.js's sharp resize does not
 * antialias), and the clip is 1 s long, where transformers.js's 512-sample framing gives the
 * same 97 frames as the Python framing we follow (packages/audio/README.md; its float64 framing
 * differs by ~1e-4 in a few values).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AutoProcessor, env, Gemma3nForConditionalGeneration, RawImage, type Tensor } from '@huggingface/transformers';
import { createNodeBackend } from '@gemma3n/backend-node';
import type { Gemma3n as BrowserGemma3n } from '../src/index';
import { Gemma3n } from '../src/node';
import { tinyModelFolder } from './tiny-model-folder';

env.allowRemoteModels = false; // pipeline probes ignore local_files_only otherwise

const newTokens = 12;
let folder: string;
let ours: BrowserGemma3n;

function testImage() {
  const data = new Uint8Array(96 * 96 * 3);
  for (let index = 0; index < data.length; index++) data[index] = (index * 11 + ((index / 3) >> 4) * 29) % 256;
  return { width: 96, height: 96, channels: 3 as const, data };
}

function testClip() {
  const samples = new Float32Array(16_000);
  for (let index = 0; index < samples.length; index++) samples[index] = 0.3 * Math.sin((2 * Math.PI * (220 + index / 50) * index) / 16_000);
  return samples;
}

beforeAll(async () => {
  folder = await tinyModelFolder('tiny-multimodal', 8);
  ours = await Gemma3n.load(folder, { backend: createNodeBackend({ intraOpNumThreads: 1 }) });
});

describe('transformers.js on our four-file tiny-multimodal folder', () => {
  it('gives our greedy tokens for a text + image + audio prompt', async () => {
    const image = testImage();
    const clip = testClip();
    const processor = await AutoProcessor.from_pretrained(folder, { local_files_only: true });
    const model = await Gemma3nForConditionalGeneration.from_pretrained(folder, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    try {
      const template = [{ role: 'user', content: [{ type: 'image' }, { type: 'audio' }, { type: 'text', text: 'Describe both.' }] }];
      const prompt = processor.apply_chat_template(template as never, { add_generation_prompt: true }) as string;
      const inputs = await processor(prompt, new RawImage(image.data, 96, 96, 3), clip, { add_special_tokens: false });
      const theirPrompt = Array.from((inputs.input_ids as Tensor).data as BigInt64Array, Number);
      const output = (await model.generate({ ...inputs, max_new_tokens: newTokens, do_sample: false, eos_token_id: [] } as never)) as Tensor;
      const theirTokens = Array.from(output.data as BigInt64Array, Number).slice(theirPrompt.length);

      const result = await ours.generate({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', image },
              { type: 'audio', audio: { samples: clip, sampleRate: 16_000 } },
              { type: 'text', text: 'Describe both.' },
            ],
          },
        ],
        temperature: 0,
        maxNewTokens: newTokens,
        stopTokenIds: [],
      });
      // Same prompt ids: 4 image and 188 audio soft tokens, expanded the same way.
      const ourPrompt = ours.tokenizer.encode(
        ours.tokenizer.expandMediaPlaceholders!(ours.tokenizer.applyChatTemplate(template as never, { addGenerationPrompt: true })),
        { addSpecialTokens: false },
      );
      expect(ourPrompt).toEqual(theirPrompt);
      expect(theirPrompt.filter((id) => id === ours.config.imageTokenId)).toHaveLength(4);
      expect(theirPrompt.filter((id) => id === ours.config.audioTokenId)).toHaveLength(188);
      expect(theirTokens).toHaveLength(newTokens);
      expect(result.tokenIds).toEqual(theirTokens);
      expect(new Set(result.tokenIds).size).toBeGreaterThan(2);
    } finally {
      await model.dispose();
    }
  });
});
