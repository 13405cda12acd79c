import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, ModelFileError } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { MediaEncoders } from '@gemma3n/decoder';
import { Tensor } from 'onnxruntime-common';
import { MediaPipeline } from '../src/media-pipeline';
import { MediaPreprocessor } from '../src/media-preprocessor';
import { createNodeBackend } from '@gemma3n/backend-node';
import { extractFeatures } from '@gemma3n/audio';
import { pixelValues, preprocessorOptionsFromConfig } from '@gemma3n/vision';
import type { Gemma3n as BrowserGemma3n } from '../src/index';
import { Gemma3n } from '../src/node';
import { floatWav, multimodalReference, readPreprocessorConfig } from './media-reference';
import { tinyModelFolder } from './tiny-model-folder';

const seed = 21;
const backend = createNodeBackend({ intraOpNumThreads: 1 });
const greedy = { temperature: 0, stopTokenIds: [] as number[] } as const;
let folder: string;
let model: BrowserGemma3n;
let scratch: string;
const reference = multimodalReference(seed);

/** A 96×96 RGB test pattern (the tiny tower's size, so no resize is involved). */
function testImage(variant: number) {
  const data = new Uint8Array(96 * 96 * 3);
  for (let index = 0; index < data.length; index++) data[index] = (index * (7 + variant) + ((index / 3) >> 5) * 13 * variant) % 256;
  return { width: 96, height: 96, channels: 3 as const, data };
}

/** 0.75 s of a chirp at 16 kHz. */
function testClip(seconds = 0.75, rate = 16_000) {
  const samples = new Float32Array(Math.round(seconds * rate));
  for (let index = 0; index < samples.length; index++) samples[index] = 0.4 * Math.sin((2 * Math.PI * (300 + index / 40) * index) / rate);
  return samples;
}

async function referencePixels(image: ReturnType<typeof testImage>) {
  return pixelValues([image], preprocessorOptionsFromConfig(await readPreprocessorConfig(folder))).data;
}

beforeAll(async () => {
  folder = await tinyModelFolder('tiny-multimodal', seed);
  model = await Gemma3n.load(folder, { backend });
  scratch = await mkdtemp(join(tmpdir(), 'gemma3n-media-test-'));
});
afterAll(async () => {
  await model?.dispose();
  await rm(scratch, { recursive: true, force: true });
});

describe('Gemma3n with images and audio on a tiny four-file model', () => {
  it('generates the reference pipeline’s greedy tokens for a text + image + audio prompt, with encoder stats', async () => {
    const image = testImage(1);
    const clip = testClip();
    const messages = [
      {
        role: 'user' as const,
        content: [
          { type: 'image' as const, image },
          { type: 'audio' as const, audio: { samples: clip, sampleRate: 16_000 } },
          { type: 'text' as const, text: 'What is this?' },
        ],
      },
    ];
    const result = await model.generate({ messages, ...greedy, maxNewTokens: 6 });

    const promptText = model.tokenizer.expandMediaPlaceholders!(model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
    const promptIds = model.tokenizer.encode(promptText, { addSpecialTokens: false });
    expect(promptIds.filter((id) => id === model.config.imageTokenId)).toHaveLength(4);
    expect(promptIds.filter((id) => id === model.config.audioTokenId)).toHaveLength(188);
    expect(result.promptTokens).toBe(promptIds.length);

    const features = extractFeatures(clip);
    const rows = new Map([
      [model.config.imageTokenId, reference.imageRows(await referencePixels(image), 1)],
      [model.config.audioTokenId, reference.audioRows(features.features, features.mask)],
    ]);
    expect(result.tokenIds).toEqual(reference.greedy(promptIds, rows, 6));
    // The media matter: the same prompt without its rows merged predicts something else.
    expect(reference.greedy(promptIds, new Map(), 6)).not.toEqual(result.tokenIds);

    expect(result.stats.visionEncoderMs).toBeGreaterThan(0);
    expect(result.stats.audioEncoderMs).toBeGreaterThan(0);
    expect(result.warnings).toEqual([]);
    const textOnly = await model.generate({ messages: [{ role: 'user', content: 'hi' }], ...greedy, maxNewTokens: 1 });
    expect(textOnly.stats.visionEncoderMs).toBeUndefined();
    expect(textOnly.stats.audioEncoderMs).toBeUndefined();
  });

  it('takes several images in one prompt, in order, from pixels, a PNG path and PNG bytes alike', async () => {
    const first = testImage(2);
    const second = testImage(3);
    const pngPath = join(scratch, 'second.png');
    const png = await sharp(Buffer.from(second.data), { raw: { width: 96, height: 96, channels: 3 } }).png().toBuffer();
    await writeFile(pngPath, png);
    const request = (secondImage: unknown) => ({
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'Compare' },
            { type: 'image' as const, image: first },
            { type: 'image' as const, image: secondImage as never },
          ],
        },
      ],
      ...greedy,
      maxNewTokens: 5,
    });
    const fromPixels = await model.generate(request(second));
    expect((await model.generate(request(pngPath))).tokenIds).toEqual(fromPixels.tokenIds);
    expect((await model.generate(request(new Uint8Array(png)))).tokenIds).toEqual(fromPixels.tokenIds);

    const promptIds = model.tokenizer.encode(
      model.tokenizer.expandMediaPlaceholders!(model.tokenizer.applyChatTemplate(request(second).messages, { addGenerationPrompt: true })),
      { addSpecialTokens: false },
    );
    const both = new Float32Array([...(await referencePixels(first)), ...(await referencePixels(second))]);
    const expected = reference.greedy(promptIds, new Map([[model.config.imageTokenId, reference.imageRows(both, 2)]]), 5);
    expect(fromPixels.tokenIds).toEqual(expected);
    // Swapping the two images changes the answer: the rows land in order.
    const swapped = await model.generate({ ...request(first), messages: [{ role: 'user', content: [{ type: 'text', text: 'Compare' }, { type: 'image', image: second }, { type: 'image', image: first }] }] });
    const swappedRows = new Float32Array([...(await referencePixels(second)), ...(await referencePixels(first))]);
    expect(swapped.tokenIds).toEqual(reference.greedy(promptIds, new Map([[model.config.imageTokenId, reference.imageRows(swappedRows, 2)]]), 5));
  });

  it('reads WAV paths and bytes, resamples other rates to 16 kHz', async () => {
    const clip = testClip(0.5);
    const wavPath = join(scratch, 'clip.wav');
    await writeFile(wavPath, floatWav(clip, 16_000));
    const ask = (audio: unknown) =>
      model.generate({ messages: [{ role: 'user', content: [{ type: 'audio', audio: audio as never }, { type: 'text', text: 'Transcribe' }] }], ...greedy, maxNewTokens: 4 });
    const fromSamples = await ask({ samples: clip, sampleRate: 16_000 });
    expect((await ask(wavPath)).tokenIds).toEqual(fromSamples.tokenIds);
    expect((await ask(floatWav(clip, 16_000))).tokenIds).toEqual(fromSamples.tokenIds);
    const at48k = await ask({ samples: testClip(0.5, 48_000), sampleRate: 48_000 });
    expect(at48k.tokenIds).toHaveLength(4);
    expect(at48k.stats.audioEncoderMs).toBeGreaterThan(0);
  });

  it('takes several clips in one message, each its own 188 rows in order; silent audio is heard as silence', async () => {
    const first = testClip(0.4);
    const second = new Float32Array(8_000); // 0.5 s of silence: valid input, features at the log floor
    const messages = [
      {
        role: 'user' as const,
        content: [
          { type: 'audio' as const, audio: { samples: first, sampleRate: 16_000 } },
          { type: 'audio' as const, audio: { samples: second, sampleRate: 16_000 } },
          { type: 'text' as const, text: 'Which is louder?' },
        ],
      },
    ];
    const result = await model.generate({ messages, ...greedy, maxNewTokens: 4 });
    const promptIds = model.tokenizer.encode(
      model.tokenizer.expandMediaPlaceholders!(model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })),
      { addSpecialTokens: false },
    );
    expect(promptIds.filter((id) => id === model.config.audioTokenId)).toHaveLength(2 * 188);
    const rowsOf = (samples: Float32Array) => {
      const features = extractFeatures(samples);
      return reference.audioRows(features.features, features.mask);
    };
    const rows = new Float32Array([...rowsOf(first), ...rowsOf(second)]);
    expect(result.tokenIds).toEqual(reference.greedy(promptIds, new Map([[model.config.audioTokenId, rows]]), 4));
  });

  it('pads an audio encoder output shorter than audio_seq_length with HF’s padding row (embed_audio of vocab_size − 1)', async () => {
    const hidden = model.config.text.hiddenSize;
    const shortOutput = Float32Array.from({ length: 2 * hidden }, (_, index) => index / 7);
    const encoders = new MediaEncoders({
      files: new NodeDirectoryModelFiles(folder),
      backend,
      config: model.config,
      sessions: {
        audio_encoder: {
          inputNames: ['input_features', 'input_features_mask'],
          outputNames: ['audio_features'],
          run: async () => ({ audio_features: new Tensor('float32', shortOutput, [1, 2, hidden]) }),
        },
      },
    });
    const pipeline = new MediaPipeline({
      config: model.config,
      sequenceLengths: { image: 4, audio: 188 },
      preprocessor: () => MediaPreprocessor.load(new NodeDirectoryModelFiles(folder), { loadImage: async () => testImage(1) }),
      encoders,
      audioPaddingRow: () => model.runtime.embedRows([model.config.text.vocabSize - 1]),
    });
    const media = pipeline.turnMedia([{ role: 'user', content: [{ type: 'audio', audio: { samples: testClip(), sampleRate: 16_000 } }] }], () => {})!;
    const { rows } = await media.encode(media.items);
    expect(rows[0]!.length).toBe(188 * hidden);
    expect(Array.from(rows[0]!.subarray(0, 2 * hidden))).toEqual(Array.from(shortOutput));
    const padding = reference.audioPaddingRow();
    for (const row of [2, 100, 187]) {
      const actual = rows[0]!.subarray(row * hidden, (row + 1) * hidden);
      actual.forEach((value, index) => expect(value).toBeCloseTo(padding[index]!, 5));
    }
  });

  it('truncates audio over 30 s with a warning through onWarning and result.warnings', async () => {
    const seen: string[] = [];
    const long = new Float32Array(16_000 * 31).fill(0.01);
    const result = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'audio', audio: { samples: long, sampleRate: 16_000 } }] }],
      ...greedy,
      maxNewTokens: 1,
      onWarning: (warning) => seen.push(warning.code),
    });
    expect(seen).toEqual(['audio-truncated']);
    expect(result.warnings).toEqual([
      {
        code: 'audio-truncated',
        message:
          'messages[0].content[0].audio is 31.0 s long; Gemma 3n hears at most 30.0 s per clip, so only its first 30.0 s are used (split longer audio into several clips)',
      },
    ]);
  });

  it('reports empty audio, corrupt and zero-size images, and miscounted placeholders clearly', async () => {
    const ask = (content: unknown) => model.generate({ messages: [{ role: 'user', content: content as never }], ...greedy, maxNewTokens: 1 });
    const empty = await ask([{ type: 'audio', audio: { samples: new Float32Array(0), sampleRate: 16_000 } }]).catch((error: unknown) => error);
    expect(InputError.isInstance(empty)).toBe(true);
    expect((empty as Error).message).toContain('a clip with at least one sample (got empty audio)');
    const corrupt = await ask([{ type: 'image', image: Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 1, 2, 3) }]).catch((error: unknown) => error);
    expect(corrupt).toBeInstanceOf(Error);
    expect((corrupt as Error).message).toMatch(/image|PNG/i);
    const zeroBytes = await ask([{ type: 'image', image: new Uint8Array(0) }]).catch((error: unknown) => error);
    expect(InputError.isInstance(zeroBytes)).toBe(true);
    const zeroSize = await ask([{ type: 'image', image: { width: 0, height: 0, channels: 3, data: new Uint8Array(0) } }]).catch((error: unknown) => error);
    expect(InputError.isInstance(zeroSize)).toBe(true);
    // A prompt that writes the placeholder itself has more placeholders than images.
    const miscounted = (() => {
      try {
        model.stream({ messages: [{ role: 'user', content: [{ type: 'text', text: '<image_soft_token>' }, { type: 'image', image: testImage(1) }] }] });
      } catch (error) {
        return error;
      }
    })();
    expect(InputError.isInstance(miscounted)).toBe(true);
    expect((miscounted as Error).message).toMatch(/^The prompt has 8 image placeholder tokens \(id \d+\) but the image encoder gave 4 rows: there are fewer image inputs/);
    // Placeholders with no media at all: as ids, as raw text, in a text-only chat turn.
    const attempts = [
      () => model.stream({ promptIds: [2, model.config.imageTokenId, 5] }),
      () => model.stream({ prompt: 'hear <audio_soft_token>' }),
      () => model.chat().stream('see <image_soft_token>'),
    ];
    for (const attempt of attempts) {
      let caught: unknown;
      try {
        attempt();
      } catch (error) {
        caught = error;
      }
      expect(InputError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/placeholder tokens .* but the (image|audio) encoder gave 0 rows: there are fewer/);
    }
    const systemImage = (() => {
      try {
        model.stream({ messages: [{ role: 'system', content: [{ type: 'image', image: testImage(1) }] }, { role: 'user', content: 'hi' }] });
      } catch (error) {
        return error;
      }
    })();
    expect(InputError.isInstance(systemImage)).toBe(true);
  });

  it('keeps a chat with images on its KV cache: each image is encoded once, answers equal a fresh run', async () => {
    const chat = model.chat();
    const first = await chat.send([{ type: 'image', image: testImage(4) }, { type: 'text', text: 'Describe' }], { ...greedy, maxNewTokens: 3 });
    expect(first.stats.visionEncoderMs).toBeGreaterThan(0);
    const second = await chat.send([{ type: 'image', image: testImage(5) }, { type: 'text', text: 'And this?' }], { ...greedy, maxNewTokens: 3 });
    expect(second.reusedTokens).toBe(first.promptTokens + first.tokenIds.length - 1);
    const third = await chat.send('Thanks', { ...greedy, maxNewTokens: 3 });
    expect(third.stats.visionEncoderMs).toBeUndefined(); // both images are in the cache already

    // The whole conversation from scratch: the ids the cache holds, both images' rows merged.
    const conversation = chat.session.tokenIds.slice(0, first.promptTokens + first.tokenIds.length + second.promptTokens - 1);
    const rows = new Float32Array([...(await referencePixels(testImage(4))), ...(await referencePixels(testImage(5)))]);
    expect(second.tokenIds).toEqual(reference.greedy(conversation, new Map([[model.config.imageTokenId, reference.imageRows(rows, 2)]]), 3));
  });

  it('a folder without the encoders runs text and names the missing file for an image', async () => {
    const textFolder = await tinyModelFolder('tiny-window-4', seed);
    const textModel = await Gemma3n.load(textFolder, { backend });
    try {
      expect((await textModel.generate({ prompt: 'hi', ...greedy, maxNewTokens: 2 })).tokenIds).toHaveLength(2);
      const error = await textModel
        .generate({ messages: [{ role: 'user', content: [{ type: 'image', image: testImage(1) }] }], ...greedy, maxNewTokens: 1 })
        .catch((caught: unknown) => caught);
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('has no onnx/vision_encoder.onnx: this folder can only run text prompts');
    } finally {
      await textModel.dispose();
    }
  });
});
