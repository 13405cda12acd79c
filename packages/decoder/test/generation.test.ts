import { describe, expect, it } from 'vitest';
import { BackendError, InputError } from '@gemma3n/core';
import { generateTokens, streamTokens } from '../src/generation/generate-tokens';
import { DecoderRuntime } from '../src/runtime/decoder-runtime';
import { createFakeTextModel, defaultFakeNextToken } from '../src/testing';
import { fakeRuntime, ids, scripted, tokenizer, vocabulary } from './fake-fixtures';

const greedy = { temperature: 0 };

describe('generation loop over DecoderRuntime (fake sessions)', () => {
  it('greedy decoding follows the model step by step, with a cache it never confuses', async () => {
    const { fake, runtime } = fakeRuntime();
    const prompt = [ids.bos, ids.a, ids.a + 1, ids.a + 2];
    const result = await generateTokens({
      model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: tokenizer,
      options: { ...greedy, maxNewTokens: 12 },
    });
    // The fake's rule applied to the growing sequence; the masked id 39 (logit 20) never wins.
    const rule = defaultFakeNextToken(vocabulary.length, 38);
    const expected: number[] = [];
    for (let step = 0; step < 12; step++) expected.push(rule([...prompt, ...expected]));
    expect(result.tokenIds).toEqual(expected);
    expect(result.finishReason).toBe('length');
    expect(result.promptTokens).toBe(4);
    expect(fake.decoderSession.fedTokenCounts).toEqual([4, ...new Array(11).fill(1)]);
    expect(result.text).toBe(tokenizer.decode(expected));
    expect(result.stats.ttftMs).toBeGreaterThanOrEqual(0);
    expect(result.stats.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it('feeds only the inputs the decoder declares, with past tensors of the declared dtype', async () => {
    for (const declares of [{ attentionMask: false, positionIds: false, numLogitsToKeep: false }, {}]) {
      for (const pastType of ['float32', 'float16'] as const) {
        const { runtime } = fakeRuntime({ declares, pastType, cacheLayers: 3 });
        const result = await generateTokens({
          model: runtime, cache: runtime.createCache(), promptIds: [ids.bos, ids.a], decoder: tokenizer,
          options: { ...greedy, maxNewTokens: 5 },
        });
        expect(result.tokenIds).toHaveLength(5);
      }
    }
  });

  it('converts the embedder\'s float32 outputs when the decoder declares float16 inputs', async () => {
    const run = async (embeddingInputType: 'float32' | 'float16') => {
      const { runtime } = fakeRuntime({ embeddingInputType });
      return (await generateTokens({
        model: runtime, cache: runtime.createCache(), promptIds: [ids.bos, ids.a, ids.a + 5], decoder: tokenizer,
        options: { ...greedy, maxNewTokens: 6 },
      })).tokenIds;
    };
    expect(await run('float16')).toEqual(await run('float32'));
  });

  it('prefills a long prompt in pieces, with the same tokens, and aborts between pieces', async () => {
    const prompt = [ids.bos, ...Array.from({ length: 9 }, (_, index) => ids.a + index)];
    const whole = fakeRuntime();
    const expected = await generateTokens({ model: whole.runtime, cache: whole.runtime.createCache(), promptIds: prompt, decoder: tokenizer, options: { ...greedy, maxNewTokens: 4 } });
    const fake = createFakeTextModel({ vocabSize: vocabulary.length, firstMaskedId: 38 });
    const pieced = new DecoderRuntime({ ...fake, prefillChunkSize: 4 });
    const actual = await generateTokens({ model: pieced, cache: pieced.createCache(), promptIds: prompt, decoder: tokenizer, options: { ...greedy, maxNewTokens: 4 } });
    expect(actual.tokenIds).toEqual(expected.tokenIds);
    expect(fake.decoderSession.fedTokenCounts).toEqual([4, 4, 2, 1, 1, 1]);

    const slow = createFakeTextModel({ vocabSize: vocabulary.length, firstMaskedId: 38, delayMs: 20 });
    const slowRuntime = new DecoderRuntime({ ...slow, prefillChunkSize: 2 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30); // during the second piece
    await expect(
      generateTokens({ model: slowRuntime, cache: slowRuntime.createCache(), promptIds: prompt, decoder: tokenizer, options: { ...greedy, signal: controller.signal } }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(slow.decoderSession.runCount).toBe(2);
    expect(() => new DecoderRuntime({ ...slow, prefillChunkSize: 0 })).toThrow(/prefillChunkSize is 0/);
  });

  it('stops on a stop token, returns it in tokenIds but not in the text', async () => {
    const prompt = [ids.bos, ids.a];
    const { runtime } = fakeRuntime({ nextToken: scripted(() => prompt.length, [ids.a + 7, ids.a + 4, ids.endOfTurn, ids.a]) });
    const result = await generateTokens({
      model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: tokenizer,
      options: greedy, defaults: { stopTokenIds: [ids.eos, ids.endOfTurn] },
    });
    expect(result.tokenIds).toEqual([ids.a + 7, ids.a + 4, ids.endOfTurn]);
    expect(result.text).toBe('he');
    expect(result.finishReason).toBe('stop');
  });

  it('stops on a stop string and never streams any part of it', async () => {
    const prompt = [ids.bos];
    const script = [ids.a, ids.a + 1, ids.X, ids.Y, ids.a + 2, ids.X, ids.Y, ids.Z, ids.a + 3];
    const { runtime } = fakeRuntime({ nextToken: scripted(() => prompt.length, script) });
    const stream = streamTokens({
      model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: tokenizer,
      options: { ...greedy, stopStrings: ['XYZ'] },
    });
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta.text);
    const result = await stream.result;
    expect(result.text).toBe('abXYc');
    expect(deltas.join('')).toBe('abXYc');
    // "XY" is held back until "c" shows it was not the stop string; the final "XY" never shows.
    expect(deltas).toEqual(['a', 'b', '', '', 'XYc', '', '', '']);
    expect(result.finishReason).toBe('stop-string');
    expect(result.tokenIds).toHaveLength(8);
  });

  it('holds back half a UTF-8 character, and deltas concatenate to the decoded text', async () => {
    const prompt = [ids.bos];
    const script = [ids.a, ids.eAcuteLead, ids.eAcuteTail, ids.space, ids.a + 1, ids.eAcuteLead];
    const { runtime } = fakeRuntime({ nextToken: scripted(() => prompt.length, script) });
    const stream = streamTokens({
      model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: tokenizer,
      options: { ...greedy, maxNewTokens: 6 },
    });
    const deltas: { tokenId: number; text: string }[] = [];
    for await (const delta of stream) deltas.push(delta);
    const result = await stream.result;
    expect(deltas.map((delta) => delta.text)).toEqual(['a', '', 'é', ' ', 'b', '\uFFFD']);
    expect(deltas.map((delta) => delta.tokenId)).toEqual(script);
    expect(deltas.map((delta) => delta.text).join('')).toBe(result.text);
    expect(result.text).toBe(tokenizer.decode(script));
  });

  it('samples reproducibly with a seed', async () => {
    const run = async (seed: number) => {
      const { runtime } = fakeRuntime();
      const result = await generateTokens({
        model: runtime, cache: runtime.createCache(), promptIds: [ids.bos, ids.a], decoder: tokenizer,
        options: { temperature: 3, topK: 10, topP: 0.95, seed, maxNewTokens: 16 },
      });
      return result.tokenIds;
    };
    const first = await run(11);
    expect(await run(11)).toEqual(first);
    expect(await run(12)).not.toEqual(first);
    expect(first.every((id) => id < 38)).toBe(true);
  });

  it('stops within one step of an abort and rejects with the abort reason', async () => {
    const { fake, runtime } = fakeRuntime({ delayMs: 15 });
    const controller = new AbortController();
    const stream = streamTokens({
      model: runtime, cache: runtime.createCache(), promptIds: [ids.bos, ids.a], decoder: tokenizer,
      options: { ...greedy, maxNewTokens: 200, signal: controller.signal },
    });
    let runsAtAbort = -1;
    const received: number[] = [];
    await expect(
      (async () => {
        for await (const delta of stream) {
          received.push(delta.tokenId);
          if (received.length === 3) {
            setTimeout(() => {
              runsAtAbort = fake.decoderSession.runCount;
              controller.abort();
            }, 5); // lands while the next step is running
          }
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    await expect(stream.result).rejects.toMatchObject({ name: 'AbortError' });
    expect(runsAtAbort).toBeGreaterThan(0);
    expect(fake.decoderSession.runCount - runsAtAbort).toBeLessThanOrEqual(1);
    expect(received.length).toBeLessThanOrEqual(4);
  });

  it('ends with finishReason "cancelled" when the consumer stops iterating', async () => {
    const { runtime } = fakeRuntime();
    const stream = streamTokens({ model: runtime, cache: runtime.createCache(), promptIds: [ids.bos], decoder: tokenizer, options: greedy });
    for await (const _delta of stream) break;
    const result = await stream.result;
    expect(result.finishReason).toBe('cancelled');
    expect(result.tokenIds).toHaveLength(1);
  });

  it('rejects a prompt that would pass the context length, clearly', async () => {
    const { runtime } = fakeRuntime({ contextLength: 20 });
    const cache = runtime.createCache();
    const make = (length: number, maxNewTokens?: number) => () =>
      streamTokens({ model: runtime, cache, promptIds: new Array(length).fill(ids.a), decoder: tokenizer, options: { ...greedy, maxNewTokens } });
    expect(make(20)).toThrow(InputError);
    expect(make(25)).toThrow(/too long: 25 tokens.*context of 20 tokens \(max_position_embeddings\)/);
    try {
      make(10, 15)();
      expect.unreachable();
    } catch (error) {
      expect(InputError.isInstance(error) && error.field).toBe('maxNewTokens');
      expect((error as Error).message).toContain('room for only 10');
    }
    // Without maxNewTokens, generation fills the context and stops there (the fake throws past it).
    const result = await generateTokens({ model: runtime, cache, promptIds: new Array(10).fill(ids.a), decoder: tokenizer, options: greedy });
    expect(result.tokenIds).toHaveLength(10);
    expect(result.finishReason).toBe('length');
  });

  it('rejects invalid options before running anything', () => {
    const { fake, runtime } = fakeRuntime();
    const start = (options: object) => () =>
      streamTokens({ model: runtime, cache: runtime.createCache(), promptIds: [ids.bos], decoder: tokenizer, options });
    expect(start({ temperature: -1 })).toThrow(/temperature is -1/);
    expect(start({ topP: 0 })).toThrow(/topP is 0; expected a number in \(0, 1\]/);
    expect(start({ maxNewTokens: 0 })).toThrow(/maxNewTokens is 0/);
    expect(start({ stopStrings: [''] })).toThrow(InputError);
    expect(fake.decoderSession.runCount).toBe(0);
  });

  it('refuses sessions that are not Gemma 3n text sessions, naming the file', () => {
    const fake = createFakeTextModel();
    const broken = { ...fake.embedSession, outputNames: ['inputs_embeds'] };
    expect(() => new DecoderRuntime({ ...fake, embedSession: broken, embedFileName: 'onnx/embed_tokens_q4.onnx' })).toThrow(
      /onnx\/embed_tokens_q4\.onnx.*output per_layer_inputs missing/,
    );
  });
});

describe('engine failures', () => {
  it('become BackendErrors naming the session file', async () => {
    const fake = createFakeTextModel({ vocabSize: vocabulary.length, firstMaskedId: 38 });
    const failing = { ...fake.decoderSession, run: async () => { throw new Error('indices element out of data bounds'); } };
    const runtime = new DecoderRuntime({ ...fake, decoderSession: failing, decoderFileName: 'onnx/decoder_model_merged_q4.onnx', backendName: 'node' });
    const error = await runtime.forward([ids.bos], runtime.createCache()).catch((caught: unknown) => caught);
    expect(BackendError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('Running "onnx/decoder_model_merged_q4.onnx" failed: [node] indices element out of data bounds');
  });
});
