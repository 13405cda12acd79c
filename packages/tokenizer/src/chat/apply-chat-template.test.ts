import { InputError, type ModelFiles } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGemma3nFixtureFolder } from '../../test/gemma3n-fixture-folder';
import { GemmaTokenizer } from '../gemma-tokenizer';
import type { ChatMessage } from './apply-chat-template';

describe('chat template and media expansion (Gemma 3n fixture, loaded through ModelFiles)', () => {
  let tokenizer: GemmaTokenizer;
  let partialFolder: string;
  beforeAll(async () => {
    const folder = ensureGemma3nFixtureFolder();
    tokenizer = await GemmaTokenizer.load(new NodeDirectoryModelFiles(folder));
    // A folder without chat_template.jinja and with other media lengths.
    partialFolder = mkdtempSync(join(tmpdir(), 'gemma3n-tokenizer-'));
    copyFileSync(join(folder, 'tokenizer.json'), join(partialFolder, 'tokenizer.json'));
    copyFileSync(join(folder, 'tokenizer_config.json'), join(partialFolder, 'tokenizer_config.json'));
    writeFileSync(join(partialFolder, 'processor_config.json'), '{"image_seq_length": 3, "audio_seq_length": 2}');
  });
  afterAll(() => rmSync(partialFolder, { recursive: true, force: true }));

  it('folds the system prompt into the first user turn and renames assistant to model', () => {
    const text = tokenizer.applyChatTemplate(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'image' }, { type: 'text', text: '  What is it? ' }, { type: 'audio' }] },
        { role: 'assistant', content: ' A cat. ' },
      ],
      { addGenerationPrompt: false },
    );
    expect(text).toBe(
      '<bos><start_of_turn>user\nBe brief.\n\n<image_soft_token>What is it?<audio_soft_token><end_of_turn>\n' +
        '<start_of_turn>model\nA cat.<end_of_turn>\n',
    );
  });

  it('expands each placeholder to the processor sequence with the configured lengths', () => {
    const expanded = tokenizer.expandMediaPlaceholders('A<image_soft_token>B<audio_soft_token>C');
    expect(expanded).toBe(
      `A\n\n<start_of_image>${'<image_soft_token>'.repeat(256)}<end_of_image>\n\nB` +
        `\n\n<start_of_audio>${'<audio_soft_token>'.repeat(188)}<end_of_audio>\n\nC`,
    );
    const ids = tokenizer.encode(expanded, { addSpecialTokens: false });
    expect(ids.filter((id) => id === 262145)).toHaveLength(256);
    expect(ids.filter((id) => id === 262273)).toHaveLength(188);
    expect(ids.includes(255999) && ids.includes(262144) && ids.includes(256000) && ids.includes(262272)).toBe(true);
  });

  it('reads the lengths from processor_config.json and the template from tokenizer_config.json', async () => {
    const partial = await GemmaTokenizer.load(new NodeDirectoryModelFiles(partialFolder));
    expect(partial.mediaSequenceLengths).toEqual({ image: 3, audio: 2 });
    expect(partial.chatTemplate).toBe(tokenizer.chatTemplate);
    const ids = partial.encodeChat([{ role: 'user', content: [{ type: 'image' }, { type: 'audio' }] }], { addGenerationPrompt: true });
    expect(ids).toEqual([
      2, 105, ...partial.encode('user\n\n\n', { addSpecialTokens: false }),
      // "\n\n" after <end_of_image> and before <start_of_audio> meet as "\n\n\n\n", one added token (110).
      255999, 262145, 262145, 262145, 262144, 110, 256000, 262273, 262273, 262272, 108,
      106, 107, 105, ...partial.encode('model\n', { addSpecialTokens: false }),
    ]);
  });

  it('rejects conversations Gemma cannot take, naming the message', () => {
    const cases: Array<[unknown, string]> = [
      [[], 'messages is []; expected a non-empty array of chat messages'],
      [[{ role: 'assistant', content: 'Hi' }], 'messages[0].role is "assistant"; expected "user"'],
      [[{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }], 'messages[1].role is "user"; expected "assistant" or "model"'],
      [[{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }], 'messages[1].role is "system"; expected a system message only as the first message'],
      [[{ role: 'tool', content: 'a' }], 'messages[0].role is "tool"'],
      [[{ role: 'user', content: [{ type: 'video' }] }], 'messages[0].content[0].type is "video"; expected "text", "image" or "audio"'],
      [[{ role: 'user', content: [{ type: 'text', text: 3 }] }], 'messages[0].content[0].text is 3; expected a string'],
      [[{ role: 'user', content: 42 }], 'messages[0].content is 42'],
    ];
    for (const [messages, message] of cases) {
      let caught: unknown;
      try {
        tokenizer.applyChatTemplate(messages as ChatMessage[]);
      } catch (error) {
        caught = error;
      }
      expect(InputError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toContain(message);
    }
  });

  it('reports a missing tokenizer.json as a ModelFileError from the files', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gemma3n-empty-'));
    try {
      const files: ModelFiles = new NodeDirectoryModelFiles(empty);
      await expect(GemmaTokenizer.load(files)).rejects.toThrow(/tokenizer.json/);
      await expect(GemmaTokenizer.load(files)).rejects.toMatchObject({ name: 'ModelFileError', problem: 'missing' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
