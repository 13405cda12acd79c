import { describe, expect, it } from 'vitest';
import { InputError } from '@gemma3n/core';
import { ChatSession, type ChatMediaItem, type ChatTurnMedia, type ConversationMessage } from '../src/chat/chat-session';
import { DecoderRuntime } from '../src/runtime/decoder-runtime';
import { createFakeTextModel } from '../src/testing';
import { ids, tokenizer } from './fake-fixtures';

// The fake embedder emits each id as its one-float embedding and the fake decoder stores what
// it is fed in its KV cache, so the cache shows exactly which value sat at which position.
const image = 38;
const audio = 39;

function runtimeWith(prefillChunkSize = Infinity) {
  const fake = createFakeTextModel({ vocabSize: 40, firstMaskedId: 38 });
  return { fake, runtime: new DecoderRuntime({ ...fake, prefillChunkSize }) };
}

function cachedValues(cache: { tensors: Map<string, { data: unknown }> }): number[] {
  return Array.from(cache.tensors.get('past_key_values.0.key')!.data as Float32Array);
}

describe('DecoderRuntime media merge', () => {
  it('writes the encoder rows over the placeholder positions, in order, across prefill pieces', async () => {
    const { runtime } = runtimeWith(3);
    const cache = runtime.createCache();
    const prompt = [ids.bos, ids.a, image, image, (ids.a + 1), image, image, audio, audio, ids.space];
    await runtime.forward(prompt, cache, {
      media: [
        { tokenId: image, rows: Float32Array.of(100, 101), rowCount: 2, label: 'image' },
        { tokenId: audio, rows: Float32Array.of(200, 201), rowCount: 2, label: 'audio' },
        { tokenId: image, rows: Float32Array.of(102, 103), rowCount: 2, label: 'image' },
      ],
    });
    expect(cachedValues(cache)).toEqual([ids.bos, ids.a, 100, 101, (ids.a + 1), 102, 103, 200, 201, ids.space]);
    // The cache's ids stay the prompt's ids (placeholders included): only the embeddings change.
    expect(cache.tokenIds).toEqual(prompt);
  });

  it('leaves prompts without media exactly as before', async () => {
    const { runtime } = runtimeWith();
    const cache = runtime.createCache();
    await runtime.forward([ids.bos, image, ids.a], cache);
    expect(cachedValues(cache)).toEqual([ids.bos, image, ids.a]);
  });

  it('rejects more media rows than placeholders before running anything', async () => {
    const { fake, runtime } = runtimeWith();
    const cache = runtime.createCache();
    const error = await runtime
      .forward([ids.bos, image, ids.a], cache, { media: [{ tokenId: image, rows: Float32Array.of(1, 2), rowCount: 2, label: 'image' }] })
      .catch((caught: unknown) => caught);
    expect(InputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'The prompt has 1 image placeholder tokens (id 38) but the image encoder gave 2 rows: there are more image inputs than ' +
        'image placeholders in the prompt (each image needs its own placeholder in the messages)',
    );
    expect(fake.decoderSession.runCount).toBe(0);
    expect(cache.length).toBe(0);
  });

  it('rejects fewer media rows than placeholders', async () => {
    const { runtime } = runtimeWith();
    const error = await runtime
      .forward([image, image, audio], runtime.createCache(), {
        media: [
          { tokenId: image, rows: Float32Array.of(1, 2), rowCount: 2, label: 'image' },
          { tokenId: audio, rows: new Float32Array(0), rowCount: 0, label: 'audio' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(InputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^The prompt has 1 audio placeholder tokens \(id 39\) but the audio encoder gave 0 rows: there are fewer/);
  });

  it('rejects rows whose width is not the embedder hidden size', async () => {
    const { runtime } = runtimeWith();
    const error = await runtime
      .forward([ids.bos, image], runtime.createCache(), { media: [{ tokenId: image, rows: Float32Array.of(1, 2), rowCount: 1, label: 'image' }] })
      .catch((caught: unknown) => caught);
    expect(InputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('1 floats per row');
  });
});

/** Renders text parts as text and each image part as two placeholders (its "soft tokens"). */
function mediaTemplate(messages: readonly ConversationMessage[], addGenerationPrompt: boolean): string {
  let text = '<bos>';
  for (const message of messages) {
    const role = message.role === 'assistant' ? 'model' : message.role;
    const content =
      typeof message.content === 'string'
        ? message.content
        : (message.content as { type: string; text?: string }[]).map((part) => (part.type === 'image' ? '<image><image>' : part.text)).join('');
    text += `<start_of_turn>${role}\n${content}<end_of_turn>\n`;
  }
  return addGenerationPrompt ? `${text}<start_of_turn>model\n` : text;
}

/** Media for a conversation: each image part names its "pixels", whose rows are [p, p + 1] (integers: the fake decoder rounds what it is fed). */
function turnMedia(messages: readonly ConversationMessage[], encoded: string[]): ChatTurnMedia {
  const items: ChatMediaItem[] = [];
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content as { type: string; pixels?: number }[]) {
      if (part.type === 'image') items.push({ tokenId: image, rowCount: 2, key: `pixels-${part.pixels}`, label: 'image' });
    }
  }
  return {
    items,
    async encode(wanted) {
      encoded.push(...wanted.map((item) => item.key));
      return {
        rows: wanted.map((item) => {
          const pixels = Number(item.key.slice('pixels-'.length));
          return Float32Array.of(pixels, pixels + 1);
        }),
        encoderStats: { visionEncoderMs: 1.5 },
      };
    },
  };
}

describe('ChatSession with media', () => {
  it('keeps the merged rows in the cache across turns and encodes only new images', async () => {
    const { fake, runtime } = runtimeWith();
    const cache = runtime.createCache();
    const session = new ChatSession({ model: runtime, cache, tokenizer, template: mediaTemplate, defaults: { stopTokenIds: [ids.endOfTurn] } });
    const encoded: string[] = [];
    const send = (content: ConversationMessage['content']) =>
      session.send(content, { temperature: 0, maxNewTokens: 2 }, turnMedia([...session.messages, { role: 'user', content }], encoded));

    const first = await send([{ type: 'image', pixels: 100 } as never, { type: 'text', text: 'ab' }]);
    expect(first.stats.visionEncoderMs).toBe(1.5);
    expect(encoded).toEqual(['pixels-100']);
    const firstPrompt = tokenizer.encode('<bos><start_of_turn>user\n<image><image>ab<end_of_turn>\n<start_of_turn>model\n');
    const imageAt = firstPrompt.indexOf(image);
    expect(cachedValues(cache).slice(imageAt, imageAt + 2)).toEqual([100, 101]);

    const runsBefore = fake.decoderSession.fedTokenCounts.length;
    const second = await send([{ type: 'image', pixels: 300 } as never, { type: 'text', text: 'c' }]);
    expect(encoded).toEqual(['pixels-100', 'pixels-300']); // the first image was not encoded again
    expect(second.reusedTokens).toBe(firstPrompt.length + first.tokenIds.length - 1);
    const values = cachedValues(cache);
    expect(values.slice(imageAt, imageAt + 2)).toEqual([100, 101]);
    const positions = cache.tokenIds.flatMap((id, position) => (id === image ? [position] : []));
    expect(positions.map((position) => values[position])).toEqual([100, 101, 300, 301]);
    expect(fake.decoderSession.fedTokenCounts[runsBefore]).toBe(second.promptTokens);

    // The same conversation from scratch gives the same cache values.
    const fresh = runtimeWith().runtime;
    const freshCache = fresh.createCache();
    const allIds = cache.tokenIds.slice(0, firstPrompt.length + first.tokenIds.length + second.promptTokens - 1);
    await fresh.forward(allIds, freshCache, {
      media: [{ tokenId: image, rows: Float32Array.of(100, 101, 300, 301), rowCount: 4, label: 'image' }],
    });
    expect(cachedValues(freshCache)).toEqual(values.slice(0, allIds.length));
  });

  it('cuts the reuse at a changed image inside an edited history', async () => {
    const { runtime } = runtimeWith();
    const cache = runtime.createCache();
    const session = new ChatSession({ model: runtime, cache, tokenizer, template: mediaTemplate, defaults: { stopTokenIds: [ids.endOfTurn] } });
    const encoded: string[] = [];
    const content = [{ type: 'text', text: 'a' }, { type: 'image', pixels: 7 } as never];
    await session.send(content, { temperature: 0, maxNewTokens: 1 }, turnMedia([{ role: 'user', content }], encoded));
    const imageAt = cache.tokenIds.indexOf(image);
    // Replace the history with the same text and another image: the ids match up to the end,
    // the media key does not from the first placeholder on.
    session.messages.length = 0;
    const edited = [{ type: 'text', text: 'a' }, { type: 'image', pixels: 8 } as never];
    const result = await session.send(edited, { temperature: 0, maxNewTokens: 1 }, turnMedia([{ role: 'user', content: edited }], encoded));
    expect(result.reusedTokens).toBe(imageAt);
    expect(encoded).toEqual(['pixels-7', 'pixels-8']);
    expect(cachedValues(cache).slice(imageAt, imageAt + 2)).toEqual([8, 9]);
  });

  it('rejects a turn whose media do not match the placeholders before touching the cache', async () => {
    const { runtime } = runtimeWith();
    const cache = runtime.createCache();
    const session = new ChatSession({ model: runtime, cache, tokenizer, template: mediaTemplate, defaults: {} });
    const content = [{ type: 'text', text: 'a' }];
    const media: ChatTurnMedia = { items: [{ tokenId: image, rowCount: 2, key: 'x', label: 'image' }], encode: async () => ({ rows: [] }) };
    expect(() => session.stream(content, {}, media)).toThrow(/The prompt has 0 image placeholder tokens \(id 38\) but the image encoder gave 2 rows/);
    expect(cache.length).toBe(0);
  });
});
