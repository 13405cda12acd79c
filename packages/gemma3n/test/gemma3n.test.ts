import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, ModelFileError } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { Gemma3n as BrowserGemma3n, createGemma3n } from '../src/index';
import { Gemma3n } from '../src/node';
import { tinyModelFolder } from './tiny-model-folder';

let folder: string;
let model: BrowserGemma3n;
const backend = createNodeBackend({ intraOpNumThreads: 1 });
const greedy = { temperature: 0 } as const;

beforeAll(async () => {
  folder = await tinyModelFolder('tiny-window-4', 11);
  model = await Gemma3n.load(folder, { backend });
});

describe('Gemma3n on a tiny converted model', () => {
  it('generates from messages with the chat template, and reports stats', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello there' }];
    const result = await model.generate({ messages, ...greedy, maxNewTokens: 12 });
    const promptText = model.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(promptText.startsWith('<bos><start_of_turn>user\n')).toBe(true);
    expect(result.promptTokens).toBe(model.tokenizer.encode(promptText, { addSpecialTokens: false }).length);
    const textIds = result.finishReason === 'stop' ? result.tokenIds.slice(0, -1) : result.tokenIds;
    expect(result.text).toBe(model.tokenizer.decode(textIds, { skipSpecialTokens: true }));
    expect(result.tokenIds.length).toBeGreaterThan(0);
    expect(result.stats.ttftMs).toBeGreaterThan(0);
    expect(result.stats.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(result.stats.decodeTokensPerSecond)).toBe(true);
  });

  it('stream deltas concatenate to the decoded text, and equal generate', async () => {
    const request = { prompt: 'Once upon a time', ...greedy, maxNewTokens: 24, stopTokenIds: [] };
    const stream = model.stream(request);
    const deltas: { tokenId: number; text: string }[] = [];
    for await (const delta of stream) deltas.push(delta);
    const result = await stream.result;
    expect(deltas.map((delta) => delta.tokenId)).toEqual(result.tokenIds);
    expect(deltas.map((delta) => delta.text).join('')).toBe(result.text);
    expect(result.text).toBe(model.tokenizer.decode(result.tokenIds, { skipSpecialTokens: true }));
    expect(result.text.length).toBeGreaterThan(0);
    expect((await model.generate(request)).tokenIds).toEqual(result.tokenIds);
  });

  it('generates from raw prompt ids with nothing added', async () => {
    const promptIds = [2, 40, 41, 42, 43, 44];
    const result = await model.generate({ promptIds, ...greedy, maxNewTokens: 8, stopTokenIds: [] });
    expect(result.promptTokens).toBe(6);
    const direct = await model.runtime.forward(promptIds, model.runtime.createCache());
    const firstToken = direct.slice(0, model.config.text.vocabSizePerLayerInput).reduce((best, value, index, all) => (value > all[best]! ? index : best), 0);
    expect(result.tokenIds[0]).toBe(firstToken);
  });

  it('stops on generation_config eos ids by default, or on the stop tokens given', async () => {
    expect(model.defaults.stopTokenIds).toEqual([1, 106]);
    const request = { promptIds: [2, 70, 71, 72], ...greedy, maxNewTokens: 12 };
    const free = await model.generate({ ...request, stopTokenIds: [] });
    const stopAt = free.tokenIds.findIndex((id, index) => index >= 2 && !free.tokenIds.slice(0, index).includes(id));
    expect(stopAt).toBeGreaterThan(1);
    const stopped = await model.generate({ ...request, stopTokenIds: [free.tokenIds[stopAt]!] });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.tokenIds).toEqual(free.tokenIds.slice(0, stopAt + 1));
    expect(stopped.text).toBe(model.tokenizer.decode(free.tokenIds.slice(0, stopAt), { skipSpecialTokens: true }));
  });

  it('samples reproducibly with a seed', async () => {
    const request = { prompt: 'The', temperature: 1.5, topK: 40, topP: 0.9, maxNewTokens: 16, stopTokenIds: [] };
    const first = await model.generate({ ...request, seed: 1 });
    expect((await model.generate({ ...request, seed: 1 })).tokenIds).toEqual(first.tokenIds);
    expect((await model.generate({ ...request, seed: 2 })).tokenIds).not.toEqual(first.tokenIds);
  });

  it('chat keeps the KV cache, prefills only the new turn, and matches a recompute', async () => {
    const chat = model.chat();
    const first = await chat.send('Hi', { ...greedy, maxNewTokens: 6 });
    expect(first.reusedTokens).toBe(0);
    let conversation: number[] = [];
    const reusedLogits: Float32Array[] = [];
    const second = await chat.send('And then?', {
      ...greedy,
      maxNewTokens: 6,
      onLogits: (logits, step) => {
        if (step === 0) conversation = [...chat.session.tokenIds];
        reusedLogits.push(logits.slice());
      },
    });
    // Everything of turn one stays cached except the answer's last token, which was never fed.
    // (With a stop token, that last token is <end_of_turn>, which the new turn's text begins with.)
    expect(second.reusedTokens).toBe(first.promptTokens + first.tokenIds.length - 1);
    expect(second.reusedTokens + second.promptTokens).toBe(conversation.length);
    const newTurnText = `<end_of_turn>\n<start_of_turn>user\nAnd then?<end_of_turn>\n<start_of_turn>model\n`;
    expect(second.promptTokens).toBe(model.tokenizer.encode(newTurnText, { addSpecialTokens: false }).length + (first.finishReason === 'stop' ? 0 : 1));

    const recomputedLogits: Float32Array[] = [];
    const recomputed = await model.generate({
      promptIds: conversation, ...greedy, maxNewTokens: 6, onLogits: (logits) => recomputedLogits.push(logits.slice()),
    });
    expect(recomputed.tokenIds).toEqual(second.tokenIds);
    expect(recomputedLogits).toHaveLength(reusedLogits.length);
    recomputedLogits.forEach((logits, step) => {
      let max = 0;
      for (let index = 0; index < logits.length; index++) max = Math.max(max, Math.abs(logits[index]! - reusedLogits[step]![index]!));
      expect(max).toBeLessThan(1e-4);
    });
    expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });
});

describe('chat after an aborted turn', () => {
  it('forgets the aborted turn and still matches a recompute of what it kept', async () => {
    const chat = model.chat();
    await chat.send('Hi', { ...greedy, maxNewTokens: 5 });
    const controller = new AbortController();
    let received = 0;
    await expect(
      (async () => {
        for await (const _delta of chat.stream('Tell me more', { ...greedy, maxNewTokens: 20, signal: controller.signal })) {
          if (++received === 3) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(chat.messages).toHaveLength(2); // the aborted turn left no message
    const cachedAfterAbort = chat.session.tokenIds.length;

    let conversation: number[] = [];
    const reusedLogits: Float32Array[] = [];
    const next = await chat.send('Something else', {
      ...greedy,
      maxNewTokens: 4,
      onLogits: (logits, step) => {
        if (step === 0) conversation = [...chat.session.tokenIds];
        reusedLogits.push(logits.slice());
      },
    });
    // The aborted tokens were cut back; the first turn stayed cached.
    expect(next.reusedTokens).toBeLessThan(cachedAfterAbort);
    expect(next.reusedTokens).toBeGreaterThan(0);
    const recomputedLogits: Float32Array[] = [];
    await model.generate({ promptIds: conversation, ...greedy, maxNewTokens: 4, onLogits: (logits) => recomputedLogits.push(logits.slice()) });
    expect(recomputedLogits).toHaveLength(reusedLogits.length);
    recomputedLogits.forEach((logits, step) => {
      let max = 0;
      for (let index = 0; index < logits.length; index++) max = Math.max(max, Math.abs(logits[index]! - reusedLogits[step]![index]!));
      expect(max).toBeLessThan(1e-4);
    });
    expect(chat.messages.map((message) => message.content)).toEqual(['Hi', chat.messages[1]!.content, 'Something else', next.text]);
  });
});

describe('bad input', () => {
  it.each([
    [{ temperature: -1 }, 'temperature'],
    [{ topP: 0 }, 'topP'],
    [{ topP: 1.01 }, 'topP'],
    [{ topK: -3 }, 'topK'],
    [{ temperature: Number.NaN }, 'temperature'],
    [{ minP: -0.1 }, 'minP'],
    [{ maxNewTokens: 1.5 }, 'maxNewTokens'],
  ])('rejects %o with an InputError naming the option', (options, field) => {
    let caught: unknown;
    try {
      model.stream({ prompt: 'x', ...options });
    } catch (error) {
      caught = error;
    }
    expect(InputError.isInstance(caught)).toBe(true);
    expect((caught as InputError).field).toBe(field);
    expect((caught as InputError).message).toMatch(new RegExp(`^${field} is `));
  });

  it('rejects a prompt over the context length before running', () => {
    const context = model.config.text.maxPositionEmbeddings;
    expect(() => model.stream({ promptIds: new Array(context + 5).fill(10) })).toThrow(
      new RegExp(`prompt is too long: ${context + 5} tokens.*context of ${context} tokens`, 'i'),
    );
    expect(() => model.stream({ promptIds: [2, 3], maxNewTokens: context })).toThrow(/maxNewTokens is/);
  });

  it('rejects requests without exactly one prompt form, and ids outside the vocabulary', () => {
    expect(() => model.stream({ prompt: 'a', promptIds: [2] })).toThrow(/exactly one of messages, prompt or promptIds/);
    expect(() => model.stream({})).toThrow(InputError);
    expect(() => model.stream({ promptIds: [2, model.config.text.vocabSize] })).toThrow(/promptIds\[1\]/);
    expect(() => model.stream({ messages: [{ role: 'robot' as 'user', content: 'x' }] })).toThrow(/messages\[0\]\.role/);
  });

  it('says plainly what an image or audio part must hold', () => {
    const image = { role: 'user' as const, content: [{ type: 'image' }, { type: 'text', text: 'Describe.' }] as never };
    let caught: unknown;
    try {
      model.stream({ messages: [image] });
    } catch (error) {
      caught = error;
    }
    expect(InputError.isInstance(caught)).toBe(true);
    expect((caught as InputError).field).toBe('messages[0].content[0].image');
  });

  describe('missing model files', () => {
    let incomplete: string;
    beforeAll(async () => {
      incomplete = await mkdtemp(join(tmpdir(), 'gemma3n-incomplete-'));
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await cp(join(folder, file), join(incomplete, file));
    });
    afterAll(async () => rm(incomplete, { recursive: true, force: true }));

    it('names the missing ONNX file', async () => {
      const error = await Gemma3n.load(incomplete, { backend }).catch((caught: unknown) => caught);
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as ModelFileError).path).toBe('onnx/embed_tokens.onnx');
      expect((error as ModelFileError).message).toContain(incomplete);
    });

    it('names the file of the requested dtype', async () => {
      const error = await Gemma3n.load(folder, { backend, dtype: 'q4' }).catch((caught: unknown) => caught);
      expect((error as ModelFileError).path).toBe('onnx/embed_tokens_q4.onnx');
    });

    it('names a missing tokenizer file, and releases the sessions it had opened', async () => {
      const bare = await mkdtemp(join(tmpdir(), 'gemma3n-bare-'));
      await cp(join(folder, 'config.json'), join(bare, 'config.json'));
      await cp(join(folder, 'onnx'), join(bare, 'onnx'), { recursive: true });
      // The sessions open before the tokenizer (lower peak memory), so a tokenizer error must release them.
      let opened = 0;
      let released = 0;
      const counting: typeof backend = {
        ...backend,
        createSession: async (model, options) => {
          const session = await backend.createSession(model, options);
          opened++;
          const release = session.release.bind(session);
          session.release = async () => {
            released++;
            await release();
          };
          return session;
        },
      };
      const error = await Gemma3n.load(bare, { backend: counting }).catch((caught: unknown) => caught);
      await rm(bare, { recursive: true, force: true });
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as ModelFileError).path).toMatch(/^tokenizer(_config)?\.json$/);
      expect(opened).toBeGreaterThanOrEqual(2);
      expect(released).toBe(opened);
    });
  });
});

describe('loading', () => {
  it('takes explicit injection, and the registry when no backend is given', async () => {
    const injected = await createGemma3n({ backend, files: new NodeDirectoryModelFiles(folder) });
    const request = { promptIds: [2, 50, 60], ...greedy, maxNewTokens: 5, stopTokenIds: [] };
    const expected = (await model.generate(request)).tokenIds;
    expect((await injected.generate(request)).tokenIds).toEqual(expected);
    await import('@gemma3n/backend-node/register');
    const registered = await BrowserGemma3n.load(new NodeDirectoryModelFiles(folder));
    expect(registered.backend.name).toBe('node');
    expect((await registered.generate(request)).tokenIds).toEqual(expected);
  });

  it('explains how to load a directory from the browser-safe entry', async () => {
    await expect(BrowserGemma3n.load(folder)).rejects.toThrow(/@gemma3n\/gemma3n\/node/);
  });
});
